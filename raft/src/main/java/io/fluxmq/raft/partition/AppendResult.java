package io.fluxmq.raft.partition;

/** Where an appended batch landed: its base offset and the log start offset at the time. */
public record AppendResult(long baseOffset, long logStartOffset) {}
