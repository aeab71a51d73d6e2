package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** Callers that ask while a sync runs share the next one; each returns only after a sync that began after its call. */
class SharedSyncTest {

    @Test
    void callersWaitingBehindARunningSyncShareTheNextOne() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        SharedSync sync = new SharedSync(() -> {
            if (runs.incrementAndGet() == 1) {
                firstStarted.countDown();
                try {
                    releaseFirst.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
        });
        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> call(sync));
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<Void>> later = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            later.add(CompletableFuture.runAsync(() -> call(sync), runnable -> new Thread(runnable).start()));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (sync.requested() < 4) {
            assertThat(System.nanoTime()).as("the three later calls arrive").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        assertThat(later).noneMatch(CompletableFuture::isDone); // the running sync began before they asked
        releaseFirst.countDown();
        first.get(10, TimeUnit.SECONDS);
        for (CompletableFuture<Void> call : later) {
            call.get(10, TimeUnit.SECONDS);
        }
        assertThat(runs.get()).as("one sync for the first call, one shared by the three later ones").isEqualTo(2);
    }

    @Test
    void aFailedSyncFailsItsCallersAndTheNextCallSyncsAgain() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        SharedSync sync = new SharedSync(() -> {
            if (runs.incrementAndGet() == 1) {
                throw new IOException("disk gone");
            }
        });
        assertThatThrownBy(sync::sync).isInstanceOf(IOException.class).hasMessage("disk gone");
        sync.sync();
        assertThat(runs.get()).isEqualTo(2);
    }

    private static void call(SharedSync sync) {
        try {
            sync.sync();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
