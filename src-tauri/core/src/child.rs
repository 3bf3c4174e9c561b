//! Child programs Kanca runs (cloudflared): where to find them, and tying their life to
//! Kanca's, one implementation per OS. Linux asks the kernel for a signal when Kanca dies
//! (PR_SET_PDEATHSIG); Windows has no such signal, so every child joins a Job Object that
//! kills its processes when Kanca's handle to it closes, which the OS does however Kanca ends.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The file name of a program on this OS ("cloudflared" → "cloudflared.exe" on Windows).
pub fn exe_name(program: &str) -> String {
    if cfg!(windows) && !program.to_ascii_lowercase().ends_with(".exe") {
        format!("{program}.exe")
    } else {
        program.to_string()
    }
}

/// Where a program usually is when it is not on the PATH. cloudflared's Windows installer (and
/// winget, which runs it) puts it under Program Files; a desktop session started from the
/// Start menu may not have that folder on its PATH yet.
pub fn usual_places(program: &str, env: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if cfg!(windows) {
        for var in ["ProgramFiles", "ProgramFiles(x86)", "ProgramW6432"] {
            if let Some(dir) = env(var) {
                out.push(Path::new(&dir).join(program).join(exe_name(program)));
            }
        }
        if let Some(local) = env("LOCALAPPDATA") {
            out.push(Path::new(&local).join("Microsoft").join("WinGet").join("Links").join(exe_name(program)));
        }
    } else {
        for dir in ["/usr/local/bin", "/usr/bin", "/opt/homebrew/bin"] {
            out.push(Path::new(dir).join(program));
        }
    }
    out
}

/// The program to run: the configured path when there is one, else the first `program` on
/// the PATH, else the first of its usual places that exists. None when it is nowhere.
pub fn find_program(configured: Option<&str>, program: &str, env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(p) = configured.map(str::trim).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let name = exe_name(program);
    let on_path = env("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).map(|dir| dir.join(&name));
    on_path.chain(usual_places(program, &env)).find(|p| p.is_file())
}

/// Make `command`'s child end when Kanca does (call before spawning).
pub fn die_with_parent(command: &mut tokio::process::Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec. (The signal
    // follows the spawning thread: a tokio worker, which lives as long as the runtime.)
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// After spawning: on Windows, put the child in Kanca's kill-on-close job. Elsewhere nothing
/// is left to do.
pub fn adopt(child: &tokio::process::Child) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        let Some(handle) = child.raw_handle() else { return Ok(()) };
        return windows_job::assign(handle);
    }
    #[cfg(not(windows))]
    {
        let _ = child;
        Ok(())
    }
}

#[cfg(windows)]
mod windows_job {
    use std::sync::OnceLock;
    use windows_sys::Win32::Foundation::HANDLE;
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation, SetInformationJobObject,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    };

    /// The job's handle, kept open for the life of the process: when Kanca ends, Windows
    /// closes it and kills every process in the job.
    struct Job(usize);

    fn job() -> std::io::Result<HANDLE> {
        static JOB: OnceLock<Result<Job, i32>> = OnceLock::new();
        let job = JOB.get_or_init(|| {
            // SAFETY: plain Win32 calls with valid arguments; the handle is never closed.
            unsafe {
                let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
                if job.is_null() {
                    return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
                }
                let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                let ok = SetInformationJobObject(
                    job,
                    JobObjectExtendedLimitInformation,
                    &info as *const _ as *const core::ffi::c_void,
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                );
                if ok == 0 {
                    return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
                }
                Ok(Job(job as usize))
            }
        });
        match job {
            Ok(j) => Ok(j.0 as HANDLE),
            Err(code) => Err(std::io::Error::from_raw_os_error(*code)),
        }
    }

    pub fn assign(process: std::os::windows::io::RawHandle) -> std::io::Result<()> {
        let job = job()?;
        // SAFETY: both handles are valid for the duration of the call.
        if unsafe { AssignProcessToJobObject(job, process as HANDLE) } == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_configured_path_wins_then_the_path_then_the_usual_places() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let env_of = |m: HashMap<&'static str, OsString>| move |k: &str| m.get(k).cloned();
        let path = |dirs: &[&Path]| std::env::join_paths(dirs).unwrap();

        assert_eq!(find_program(Some(" /opt/cf "), "cloudflared", env_of(HashMap::new())), Some(PathBuf::from("/opt/cf")));
        let env = env_of(HashMap::from([("PATH", path(&[&bin]))]));
        assert_eq!(find_program(Some(""), "kanca-no-such-program", &env), None);
        let exe = bin.join(exe_name("kanca-test-prog"));
        std::fs::write(&exe, b"").unwrap();
        assert_eq!(find_program(None, "kanca-test-prog", &env), Some(exe));
    }

    #[test]
    fn windows_looks_under_program_files() {
        let env = |k: &str| match k {
            "ProgramFiles" => Some(OsString::from("C:\\Program Files")),
            "LOCALAPPDATA" => Some(OsString::from("C:\\Users\\ayse\\AppData\\Local")),
            _ => None,
        };
        let places = usual_places("cloudflared", env);
        if cfg!(windows) {
            assert_eq!(places[0], Path::new("C:\\Program Files").join("cloudflared").join("cloudflared.exe"));
            assert!(places[1].ends_with("WinGet\\Links\\cloudflared.exe"));
        } else {
            assert!(places.contains(&PathBuf::from("/usr/local/bin/cloudflared")));
        }
    }
}
