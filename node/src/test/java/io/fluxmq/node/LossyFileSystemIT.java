package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The power-cut file system of PowerCutIT keeps exactly what its model says (docs/testing.md): fsynced content
 * survives a cut, unsynced content (write(), mmap, truncate) is gone, and directory operations are durable at
 * once while the content they carry is not. Needs root, /dev/fuse and python3-fusepy.
 */
class LossyFileSystemIT {
    @TempDir
    Path dir;
    private LossyFileSystem fs;
    private Path mnt;

    @BeforeEach
    void mount() throws Exception {
        fs = LossyFileSystem.mount(dir.resolve("backing"), dir.resolve("mnt"),
                Path.of("target", "node-logs", "lossyfs-it.log"));
        mnt = fs.mountPoint();
    }

    @AfterEach
    void unmount() throws Exception {
        fs.close();
    }

    @Test
    void unsyncedWritesAreVisibleUntilACutAndThenGone() throws Exception {
        Path f = mnt.resolve("a");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(bytes("not synced"));
        }
        assertThat(Files.readString(f)).isEqualTo("not synced");
        assertThat(Files.size(fs.backing().resolve("a"))).as("nothing durable before an fsync").isZero();

        fs.cut();
        fs.mount();
        assertThat(Files.exists(f)).as("the file's creation was durable at once").isTrue();
        assertThat(Files.size(f)).as("its unsynced content is gone").isZero();
    }

    @Test
    void fsyncedWritesSurviveAndLaterOnesDoNot() throws Exception {
        Path f = mnt.resolve("b");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(bytes("synced"));
            ch.force(false);
            ch.write(bytes("+lost"));
            assertThat(Files.readString(f)).isEqualTo("synced+lost");
        }
        fs.cut();
        fs.mount();
        assertThat(Files.readString(f)).isEqualTo("synced");
    }

    @Test
    void mappedWritesSurviveOnlyWhenForced() throws Exception {
        Path f = mnt.resolve("c");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(8192);
            raf.getChannel().force(true); // the size is durable, the pages are zeros
            MappedByteBuffer map = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 8192);
            map.put(0, "forced".getBytes(StandardCharsets.US_ASCII));
            map.force();
            map.put(4096, "dirty page".getBytes(StandardCharsets.US_ASCII));
            map.put(6, "!".getBytes(StandardCharsets.US_ASCII)); // same page as the forced bytes, after the force
            unmap(map); // a live mapping would keep the mount busy
        }
        byte[] before = Files.readAllBytes(f);
        assertThat(new String(before, 4096, 10, StandardCharsets.US_ASCII)).isEqualTo("dirty page");
        fs.cut();
        fs.mount();
        byte[] after = Files.readAllBytes(f);
        assertThat(after).hasSize(8192);
        assertThat(new String(after, 0, 7, StandardCharsets.US_ASCII)).isEqualTo("forced\0");
        assertThat(Arrays.copyOfRange(after, 4096, 8192)).as("the unforced page").isEqualTo(new byte[4096]);
    }

    @Test
    void aRenameIsDurableAtOnceButCarriesOnlyFsyncedContent() throws Exception {
        Path unsynced = mnt.resolve("unsynced.tmp");
        Files.writeString(unsynced, "written, renamed, never fsynced");
        Files.move(unsynced, mnt.resolve("unsynced"), StandardCopyOption.ATOMIC_MOVE);
        Path synced = mnt.resolve("synced.tmp");
        try (FileChannel ch = FileChannel.open(synced, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(bytes("written, fsynced, renamed"));
            ch.force(true);
        }
        Files.move(synced, mnt.resolve("synced"), StandardCopyOption.ATOMIC_MOVE);
        assertThat(Files.readString(mnt.resolve("unsynced"))).isEqualTo("written, renamed, never fsynced");

        fs.cut();
        fs.mount();
        assertThat(Files.exists(mnt.resolve("unsynced.tmp"))).isFalse();
        assertThat(Files.exists(mnt.resolve("synced.tmp"))).isFalse();
        assertThat(Files.size(mnt.resolve("unsynced"))).as("renamed, but its content was never fsynced").isZero();
        assertThat(Files.readString(mnt.resolve("synced"))).isEqualTo("written, fsynced, renamed");
    }

    @Test
    void aTruncationIsPendingUntilFsynced() throws Exception {
        Path f = mnt.resolve("d");
        byte[] content = new byte[10_000];
        Arrays.fill(content, (byte) 'x');
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(content));
            ch.force(true);
            ch.truncate(100);
            ch.write(bytes("y"), 5000); // the gap 100..5000 reads as zeros, not as the old x's
        }
        byte[] visible = Files.readAllBytes(f);
        assertThat(visible).hasSize(5001);
        assertThat(visible[99]).isEqualTo((byte) 'x');
        assertThat(Arrays.copyOfRange(visible, 100, 5000)).isEqualTo(new byte[4900]);
        fs.cut();
        fs.mount();
        assertThat(Files.readAllBytes(f)).as("the unsynced truncation and write are gone").isEqualTo(content);

        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(100);
            ch.force(true);
        }
        fs.cut();
        fs.mount();
        assertThat(Files.readAllBytes(f)).isEqualTo(Arrays.copyOf(content, 100));
    }

    @Test
    void nothingBecomesDurableOnceThePowerIsOff() throws Exception {
        Path f = mnt.resolve("e");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(bytes("before"));
            ch.force(true);
            ch.write(bytes(" after"));
            fs.powerOff();
            assertThatThrownBy(() -> ch.force(true)).as("an fsync after the power went").isInstanceOf(IOException.class);
        }
        assertThatThrownBy(() -> Files.move(f, mnt.resolve("moved"))).as("a rename after the power went")
                .isInstanceOf(IOException.class);
        fs.cut();
        fs.mount();
        assertThat(Files.readString(f)).isEqualTo("before");
        assertThat(Files.exists(mnt.resolve("moved"))).isFalse();
    }

    /** Unmaps now rather than at some garbage collection (jdk.unsupported's Unsafe.invokeCleaner). */
    private static void unmap(MappedByteBuffer map) throws Exception {
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
        theUnsafe.setAccessible(true);
        unsafeClass.getMethod("invokeCleaner", ByteBuffer.class).invoke(theUnsafe.get(null), map);
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }
}
