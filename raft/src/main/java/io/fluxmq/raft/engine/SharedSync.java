package io.fluxmq.raft.engine;

import java.io.IOException;
import java.io.InterruptedIOException;

/**
 * One sync (a directory's fsync) shared by the threads that ask for it at about the same time: a caller returns once a
 * sync that started after its call completed. While one thread syncs, the others wait, and the next sync, run by one
 * of them, covers all of them. A failure fails the callers of that sync, not later ones. Thread-safe.
 */
final class SharedSync {

    /** The sync itself. */
    interface Action {
        void run() throws IOException;
    }

    private final Action action;
    private final Object lock = new Object();
    /** Calls so far, and the number of calls the last finished sync covered. Guarded by lock. */
    private long requested;
    private long covered;
    private boolean running;
    /** The failure of the last finished sync and the calls it covered. Guarded by lock. */
    private IOException failure;
    private long failedFrom;

    SharedSync(Action action) {
        this.action = action;
    }

    /** Calls so far (tests). */
    long requested() {
        synchronized (lock) {
            return requested;
        }
    }

    void sync() throws IOException {
        long ticket;
        long upTo;
        synchronized (lock) {
            ticket = ++requested;
            while (true) {
                if (covered >= ticket) {
                    if (failure != null && failedFrom < ticket) {
                        throw new IOException("sync failed", failure);
                    }
                    return;
                }
                if (!running) {
                    running = true;
                    upTo = requested;
                    break;
                }
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted waiting for a sync");
                }
            }
        }
        IOException failed = null;
        try {
            action.run();
        } catch (IOException e) {
            failed = e;
        }
        synchronized (lock) {
            if (failed != null) {
                failure = failed;
                failedFrom = covered;
            } else {
                failure = null;
            }
            covered = upTo;
            running = false;
            lock.notifyAll();
        }
        if (failed != null) {
            throw failed;
        }
    }
}
