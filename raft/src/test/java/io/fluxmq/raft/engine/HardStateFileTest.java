package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raftcore.HardState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HardStateFileTest {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("raft-hard-state");
    }

    @Test
    void aMissingFileIsANodeWithoutGroups() throws Exception {
        HardStateFile states = HardStateFile.open(file());
        assertThat(states.get(7)).isEqualTo(HardState.INITIAL);
        assertThat(states.all()).isEmpty();
        assertThat(Files.exists(file())).isFalse();
    }

    @Test
    void writesSurviveAReopenAndLaterWritesMergeAndRemove() throws Exception {
        HardStateFile states = HardStateFile.open(file());
        states.write(Map.of(1L, new HardState(3, 2), 2L, new HardState(5, HardState.NO_VOTE), -4L,
            new HardState(1, 1)));
        states.write(Map.of(1L, new HardState(4, 1)));
        states.remove(2);
        assertThat(states.get(1)).isEqualTo(new HardState(4, 1));

        HardStateFile reopened = HardStateFile.open(file());
        assertThat(reopened.all()).containsExactly(Map.entry(-4L, new HardState(1, 1)),
            Map.entry(1L, new HardState(4, 1)));
        assertThat(reopened.get(2)).isEqualTo(HardState.INITIAL);
    }

    /** Every flipped bit and every cut of the file is found: the open fails rather than forget a vote. */
    @Test
    void anyCorruptionOrTruncationFailsTheOpen() throws Exception {
        HardStateFile.open(file()).write(Map.of(1L, new HardState(3, 2), 9L, new HardState(8, 3)));
        byte[] good = Files.readAllBytes(file());
        for (int i = 0; i < good.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << bit);
                Files.write(file(), bad);
                assertThatThrownBy(() -> HardStateFile.open(file())).as("bit %d of byte %d", bit, i)
                    .isInstanceOf(HardStateFile.CorruptHardStateException.class);
            }
        }
        for (int length = 0; length < good.length; length++) {
            Files.write(file(), Arrays.copyOf(good, length));
            assertThatThrownBy(() -> HardStateFile.open(file())).as("cut at %d", length)
                .isInstanceOf(HardStateFile.CorruptHardStateException.class);
        }
        Files.write(file(), good);
        assertThat(HardStateFile.open(file()).get(9)).isEqualTo(new HardState(8, 3));
    }

    @Test
    void anUnfinishedWriteIsIgnoredAndTheFileBeforeItKept() throws Exception {
        HardStateFile.open(file()).write(Map.of(1L, new HardState(3, 2)));
        Files.write(dir.resolve("raft-hard-state.tmp"), new byte[] {1, 2, 3}); // a crash before the rename
        HardStateFile states = HardStateFile.open(file());
        assertThat(states.get(1)).isEqualTo(new HardState(3, 2));
        states.write(Map.of(1L, new HardState(4, 4)));
        assertThat(HardStateFile.open(file()).get(1)).isEqualTo(new HardState(4, 4));
    }

    /** Event loops write at once; every change is durable when its call returns, none is lost to another's write. */
    @Test
    void concurrentWritersAllEndUpInTheFile() throws Exception {
        HardStateFile states = HardStateFile.open(file());
        int threads = 4;
        int writes = 50;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long group = t;
                done.add(pool.submit(() -> {
                    for (int w = 1; w <= writes; w++) {
                        Map<Long, HardState> change = new HashMap<>();
                        change.put(group, new HardState(w, (int) group));
                        change.put(100 + group * 1000 + w, new HardState(w, -1));
                        states.write(change);
                        if (!HardStateFile.open(file()).get(group).equals(new HardState(w, (int) group))) {
                            throw new AssertionError("write " + w + " of group " + group + " not on disk");
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        HardStateFile reopened = HardStateFile.open(file());
        assertThat(reopened.all()).hasSize(threads + threads * writes);
        for (long t = 0; t < threads; t++) {
            assertThat(reopened.get(t)).isEqualTo(new HardState(writes, (int) t));
        }
    }
}
