package io.fluxmq.node;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a node keeps a partition's segment files, whichever engine wrote its data dir: {@code topics/<topic>-<p>}
 * on Ratis, {@code multiraft/<topic>-<p>} on the multi-Raft engine (whose segment log is the Raft log itself). A data
 * dir keeps the engine it was written with, so the presence of {@code multiraft/} decides.
 */
final class PartitionDirs {
    private PartitionDirs() {
    }

    static Path of(Path dataDir, String topic, int partition) {
        return engineRoot(dataDir).resolve(topic + "-" + partition);
    }

    /** Whether {@code dataDir} holds partitions of the multi-Raft engine. */
    static boolean isMultiRaft(Path dataDir) {
        return Files.isDirectory(dataDir.resolve(NodeConfig.MULTIRAFT));
    }

    private static Path engineRoot(Path dataDir) {
        return isMultiRaft(dataDir) ? dataDir.resolve(NodeConfig.MULTIRAFT) : dataDir.resolve("topics");
    }
}
