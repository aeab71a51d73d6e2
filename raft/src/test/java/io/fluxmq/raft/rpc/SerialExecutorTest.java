package io.fluxmq.raft.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void close() {
        pool.shutdownNow();
    }

    @Test
    void runsTasksOneAtATimeInSubmissionOrder() throws Exception {
        SerialExecutor serial = new SerialExecutor(pool);
        List<Integer> order = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1000);
        int[] concurrent = {0};
        int[] maxConcurrent = {0};
        for (int i = 0; i < 1000; i++) {
            int n = i;
            serial.execute(() -> {
                synchronized (concurrent) {
                    maxConcurrent[0] = Math.max(maxConcurrent[0], ++concurrent[0]);
                }
                order.add(n);
                synchronized (concurrent) {
                    concurrent[0]--;
                }
                done.countDown();
            });
        }
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(order).isSorted().hasSize(1000);
        assertThat(maxConcurrent[0]).isEqualTo(1);
    }

    @Test
    void aBlockedExecutorDoesNotHoldUpAnother() throws Exception {
        SerialExecutor blocked = new SerialExecutor(pool);
        SerialExecutor other = new SerialExecutor(pool);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch behindBlocked = new CountDownLatch(1);
        CountDownLatch otherRan = new CountDownLatch(1);
        blocked.execute(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        blocked.execute(behindBlocked::countDown);
        other.execute(otherRan::countDown);
        assertThat(otherRan.await(5, TimeUnit.SECONDS)).as("the other executor's task ran").isTrue();
        assertThat(behindBlocked.getCount()).as("the task queued behind the blocked one waits").isEqualTo(1);
        release.countDown();
        assertThat(behindBlocked.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aFailingTaskDoesNotStopTheOnesBehindIt() throws Exception {
        SerialExecutor serial = new SerialExecutor(pool);
        CountDownLatch ran = new CountDownLatch(1);
        serial.execute(() -> {
            throw new IllegalStateException("expected by the test");
        });
        serial.execute(ran::countDown);
        assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
    }
}
