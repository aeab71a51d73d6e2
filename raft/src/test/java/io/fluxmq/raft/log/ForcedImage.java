package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A "disk" for tests of other packages: holds only the bytes of a log's first segment that flushes and truncations
 * forced, so a power cut can be simulated by writing the image over a copy of the segment file. The log must keep one
 * segment (sealing forces outside this recorder).
 */
public final class ForcedImage implements DataForcer {

    /** Runs before each force is recorded (may block or fail it). */
    public interface Hook {
        void beforeForce() throws IOException;
    }

    private final byte[] image;
    private volatile Hook hook = () -> { };

    public ForcedImage(int segmentBytes) {
        this.image = new byte[segmentBytes];
    }

    /** Opens a log whose forces this image records. */
    public SegmentLog open(Path dir, SegmentLogConfig config) throws IOException {
        return SegmentLog.open(dir, config, () -> 0L, this);
    }

    public void onForce(Hook next) {
        hook = next;
    }

    @Override
    public void force(MappedByteBuffer data, int from, int length) throws IOException {
        hook.beforeForce();
        synchronized (this) {
            data.get(from, image, from, length);
        }
    }

    /** Replaces the first segment's data in (a copy of) the log directory {@code dir} with what was forced. */
    public synchronized void writeTo(Path dir) throws IOException {
        Files.write(dir.resolve(LogSegment.fileName(0, LogSegment.LOG_SUFFIX)), image);
    }
}
