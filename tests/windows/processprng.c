/* bcryptprimitives.dll for Wine 8, which lacks it: Rust's standard library on Windows draws its
 * random numbers (HashMap keys, ...) from ProcessPrng, which Windows 10 and later export from
 * bcryptprimitives.dll. This forwards to BCryptGenRandom, which Wine has. Test use only:
 * tests/windows-wine.sh builds it into the Wine prefix's system32. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* BCryptGenRandom takes a ULONG length: ask in pieces. Like Windows' ProcessPrng, it never
     * reports failure; a failing system RNG ends the process rather than hand out zeros. */
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            ExitProcess(0xC0000001);
        data += n;
        len -= n;
    }
    return TRUE;
}
