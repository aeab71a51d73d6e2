package io.fluxmq.kafka.broker;

import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * This node's one log directory as DescribeLogDirs reports it: the directory holding the partition directories
 * ({@code <data-dir>/topics}), the file system's total and usable bytes, and each local replica.
 *
 * @param path        absolute path of the directory
 * @param totalBytes  size of the file system holding it, -1 when unknown
 * @param usableBytes bytes still available to this process on it, -1 when unknown
 * @param replicas    every replica this node holds
 */
public record LogDirDescription(String path, long totalBytes, long usableBytes, List<Replica> replicas) {

    /**
     * One replica: the bytes of its segment files, and how many offsets its log end trails the leader's (0 on the
     * leader, and on a follower that cannot tell).
     */
    public record Replica(TopicPartition topicPartition, long sizeBytes, long offsetLag) {}
}
