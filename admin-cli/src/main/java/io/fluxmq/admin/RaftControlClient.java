package io.fluxmq.admin;

import io.fluxmq.control.v1.RaftControlGrpc;
import io.fluxmq.control.v1.RaftStatusReply;
import io.fluxmq.control.v1.RaftStatusRequest;
import io.fluxmq.control.v1.TakeSnapshotReply;
import io.fluxmq.control.v1.TakeSnapshotRequest;
import io.fluxmq.control.v1.TransferLeaderReply;
import io.fluxmq.control.v1.TransferLeaderRequest;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Calls to the nodes' gRPC {@code RaftControl} service (raft_control.proto), trying the given control addresses in
 * order until one answers; the node asked forwards to the one that must act.
 */
final class RaftControlClient {
    private RaftControlClient() {
    }

    static TransferLeaderReply transferLeader(ConnectionOptions c, TransferLeaderRequest request) {
        return call(c.controlAddresses(), c.timeoutMs, c.controlCredentials(), stub -> stub.transferLeader(request));
    }

    static RaftStatusReply raftStatus(ConnectionOptions c, RaftStatusRequest request) {
        return call(c.controlAddresses(), c.timeoutMs, c.controlCredentials(), stub -> stub.raftStatus(request));
    }

    static TakeSnapshotReply takeSnapshot(ConnectionOptions c, TakeSnapshotRequest request) {
        return call(c.controlAddresses(), c.timeoutMs, c.controlCredentials(), stub -> stub.takeSnapshot(request));
    }

    /**
     * @throws AdminException {@link AdminException#FAILED} when a node answered with an error (NOT_FOUND: no such
     *     partition, UNAVAILABLE from a node: no replica and no leader), {@link AdminException#UNREACHABLE} when no
     *     node answered
     */
    private static <T> T call(List<String> addresses, long timeoutMs, ChannelCredentials credentials,
                              Function<RaftControlGrpc.BlockingStub, T> call) {
        if (addresses.isEmpty()) {
            throw AdminException.usage("this command needs the control service: give --bootstrap host:controlPort "
                    + "(or FLUXMQ_BOOTSTRAP, or bootstrap= in the config file)");
        }
        List<String> failures = new ArrayList<>();
        for (String address : addresses) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(address, credentials).build();
            try {
                return call.apply(RaftControlGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS));
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                if (code == Status.Code.NOT_FOUND || code == Status.Code.INVALID_ARGUMENT
                        || code == Status.Code.PERMISSION_DENIED) {
                    throw AdminException.failed(e.getStatus().getDescription());
                }
                failures.add(address + ": " + code
                        + (e.getStatus().getDescription() == null ? "" : " " + e.getStatus().getDescription()));
            } finally {
                channel.shutdownNow();
            }
        }
        throw AdminException.unreachable("no node answered: " + String.join("; ", failures)
                + " (is the cluster running? --bootstrap takes the control port, 9292 by default)");
    }
}
