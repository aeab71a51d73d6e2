package io.fluxmq.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

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

    /** Copies the partition's directory of nodes {@code 0..nodes-1} under {@code to/node-<i>/} for a post-mortem. */
    static void keep(Path clusterDir, String topic, int partition, int nodes, Path to) throws IOException {
        for (int i = 0; i < nodes; i++) {
            Path from = of(clusterDir.resolve("node-" + i), topic, partition);
            Path copy = to.resolve("node-" + i).resolve(topic + "-" + partition);
            Files.createDirectories(copy);
            try (Stream<Path> files = Files.list(from)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(f, copy.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** The directory holding the data dir's partition directories: {@code multiraft/} or {@code topics/}. */
    static Path engineRoot(Path dataDir) {
        return isMultiRaft(dataDir) ? dataDir.resolve(NodeConfig.MULTIRAFT) : dataDir.resolve("topics");
    }
}
