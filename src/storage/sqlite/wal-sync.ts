/**
 * @module storage/sqlite/wal-sync
 * Durability without blocking the event loop. The writer runs with `synchronous=NORMAL`, so a
 * commit only writes its WAL frames to the OS; the store then `fdatasync`s the WAL file on
 * libuv's thread pool and acknowledges only after that returns. Once the frames of a commit
 * are on disk, SQLite's recovery replays that commit after a crash or power loss: the same
 * guarantee as `synchronous=FULL`, whose fsync inside the commit would stall the event loop
 * for each commit (about a third of the main thread under load).
 *
 * fsync applies to the file, not the descriptor, so a descriptor of our own suffices. SQLite
 * keeps the WAL file (same inode) while a connection is open; the descriptor is opened after
 * the first commit created it and closed before the connection closes.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';

export class WalSync {
  readonly #walPath: string;
  #fd: number | undefined;

  constructor(databasePath: string) {
    this.#walPath = `${databasePath}-wal`;
  }

  /** Resolves once everything written to the WAL so far is on stable storage. */
  sync(): Promise<void> {
    this.#fd ??= openSync(this.#walPath, 'r');
    const fd = this.#fd;
    return new Promise((resolve, reject) => {
      fdatasync(fd, (err) => {
        if (err === null) resolve();
        else reject(err);
      });
    });
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
