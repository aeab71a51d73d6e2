package io.fluxmq.kafka.group;

/** A committed consumer offset as stored and served: offset, leader epoch (-1 unknown), metadata, commit time. */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestampMs) {}
