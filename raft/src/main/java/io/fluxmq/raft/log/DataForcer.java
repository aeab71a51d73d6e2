package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.MappedByteBuffer;

/**
 * Forces a range of a segment's mapped data to the device. The log uses {@link #MSYNC}; tests substitute one that
 * records what reached "the disk", to check what a power cut right after a flush would leave.
 */
@FunctionalInterface
interface DataForcer {

    /** {@code msync} of the pages behind {@code data[from, from + length)}. */
    DataForcer MSYNC = (data, from, length) -> data.force(from, length);

    void force(MappedByteBuffer data, int from, int length) throws IOException;
}
