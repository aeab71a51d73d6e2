package io.fluxmq.raft.metadata;

/** The last leader a partition's Raft group reported: node id and Raft term (= Kafka leader epoch). */
public record LeaderRecord(int leader, int epoch) {}
