// Office mode as the window reads it: whether this computer is a desk and how its connection to
// the receiver stands, and the `shared-changed` signals gathered into one refresh per burst.

import { debounce } from "./dom";
import type { AppStatus, DeskStatus, SharedChanged } from "./types";

/** Shared changes that come within this long of each other are refreshed together. */
export const SHARED_DEBOUNCE_MS = 150;

/** This computer follows the office's receiver: the receiver's business is not shown here. */
export function isDesk(status: AppStatus | null): boolean {
  return status?.office?.role === "desk";
}

/** A desk's connection to its receiver; null when this computer is no desk. */
export function deskOf(status: AppStatus | null): DeskStatus | null {
  return isDesk(status) ? (status?.office.desk ?? null) : null;
}

/** Contacts can be added and edited here: not on a desk whose receiver shares no phone book. */
export function phoneBookWritable(status: AppStatus | null): boolean {
  return !deskOf(status)?.no_phone_book;
}

/** The receiver cannot be reached, or refuses this desk: the sidebar warns. */
export function deskInTrouble(desk: DeskStatus | null): boolean {
  return desk?.state === "unreachable" || desk?.state === "refused";
}

/** The first 16 of a certificate fingerprint's 64 hex digits, in fours: enough to compare by eye. */
export function shortFingerprint(fp: string): string {
  const head = fp.replace(/[^0-9a-fA-F]/g, "").slice(0, 16).toUpperCase();
  return head.length < 16 ? head : `${head.match(/.{4}/g)!.join(" ")}…`;
}

/** What a burst of `shared-changed` asks to read again. */
export interface SharedBatch {
  /** Calls whose note or tags changed. */
  calls: Set<string>;
  /** The phone book changed: contacts and the names on calls. */
  contacts: boolean;
  /** The PBX names changed: the names on calls. */
  names: boolean;
  /** Tag colours changed. */
  tags: boolean;
}

/**
 * Gathers `shared-changed` payloads and hands `apply` one batch once `ms` pass without another
 * (a desk importing a phone book, a receiver with many desks typing notes).
 */
export function sharedCollector(apply: (batch: SharedBatch) => void, ms = SHARED_DEBOUNCE_MS) {
  let batch: SharedBatch | null = null;
  const flush = debounce(() => {
    const b = batch;
    batch = null;
    if (b) apply(b);
  }, ms);
  const add = (change: SharedChanged): void => {
    batch ??= { calls: new Set(), contacts: false, names: false, tags: false };
    if (change.what === "call" && change.uuid) batch.calls.add(change.uuid);
    else if (change.what === "contacts") batch.contacts = true;
    else if (change.what === "names") batch.names = true;
    else if (change.what === "tags") batch.tags = true;
    // A call without its uuid, or a kind this window does not know: read everything again.
    else batch.contacts = true;
    flush();
  };
  add.cancel = () => {
    flush.cancel();
    batch = null;
  };
  return add;
}
