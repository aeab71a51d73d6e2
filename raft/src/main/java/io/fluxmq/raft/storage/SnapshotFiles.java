package io.fluxmq.raft.storage;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Writes a state machine snapshot file the way Ratis' {@code SimpleStateMachineStorage} reads it back
 * ({@code snapshot.<term>_<index>} plus {@code snapshot.<term>_<index>.md5} holding {@code "<md5 hex> *<name>"}),
 * both through {@link DurableFiles}: the snapshot is complete and fsynced before its name appears, and its checksum
 * file is written the same way after it. A power cut leaves no partial snapshot; at worst a snapshot without its
 * checksum file, which Ratis loads unverified.
 */
public final class SnapshotFiles {
    private SnapshotFiles() {
    }

    /** Writes {@code file} durably with its MD5 file and returns the snapshot info to hand to the storage. */
    public static SingleFileSnapshotInfo write(File file, TermIndex termIndex, DurableFiles.Content content)
            throws IOException {
        MessageDigest md5 = newMd5();
        DurableFiles.write(file.toPath(), out -> {
            DigestOutputStream digesting = new DigestOutputStream(out, md5);
            content.writeTo(digesting);
            digesting.flush();
        });
        MD5Hash hash = MD5Hash.newInstance(md5.digest());
        Path md5File = MD5FileUtil.getDigestFileForFile(file).toPath();
        DurableFiles.write(md5File, (hash + " *" + file.getName() + "\n").getBytes(StandardCharsets.UTF_8));
        return new SingleFileSnapshotInfo(new FileInfo(file.toPath(), hash), termIndex);
    }

    /**
     * Forces the snapshot files Ratis received from the leader (in the group's {@code tmp/} directory, written without
     * an fsync) to disk; called before Ratis renames them into {@code sm/}. A failure fails the installation, which
     * the leader retries.
     */
    public static void syncInstalled(RaftStorage raftStorage) {
        if (raftStorage == null) {
            return;
        }
        try {
            DurableFiles.syncTree(raftStorage.getStorageDir().getTmpDir().toPath());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot force the installed snapshot to disk", e);
        }
    }

    /** Makes the rename that published an installed snapshot durable ({@code sm/} and the group directory). */
    public static void syncPublished(RaftStorage raftStorage) throws IOException {
        if (raftStorage == null) {
            return;
        }
        Path sm = raftStorage.getStorageDir().getStateMachineDir().toPath();
        if (Files.isDirectory(sm)) {
            DurableFiles.syncDirectory(sm);
        }
        DurableFiles.syncDirectory(raftStorage.getStorageDir().getRoot().toPath());
    }

    private static MessageDigest newMd5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is not available", e);
        }
    }
}
