package io.fluxmq.admin;

import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.ControllerReply;
import io.fluxmq.control.v1.SetNodeMembershipRequest;
import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.DescribeNodesRequest;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** Calls to the nodes' gRPC control service, trying the given addresses in order. */
final class ControlClient {
    private ControlClient() {
    }

    /**
     * DescribeNodes from the first address that answers.
     *
     * @throws AdminException {@link AdminException#UNREACHABLE} naming each address and its gRPC status when none
     *     answered
     */
    static DescribeNodesReply describeNodes(ConnectionOptions c) {
        return firstAnswer(c.controlAddresses(), c.timeoutMs, c.controlCredentials(), stub -> stub.describeNodes(DescribeNodesRequest.getDefaultInstance()));
    }

    /**
     * SetNodeMembership (decommission, recommission) through the first address that answers; that node forwards it
     * to the controller leader.
     *
     * @throws AdminException {@link AdminException#UNREACHABLE} when no address answered
     */
    static ControllerReply setNodeMembership(ConnectionOptions c, SetNodeMembershipRequest request) {
        return firstAnswer(c.controlAddresses(), c.timeoutMs, c.controlCredentials(), stub -> stub.setNodeMembership(request));
    }

    /** {@code call} against the first address that answers it, each with a deadline of {@code timeoutMs}. */
    private static <T> T firstAnswer(List<String> addresses, long timeoutMs, ChannelCredentials credentials,
                                     Function<ControlServiceGrpc.BlockingStub, T> call) {
        List<String> failures = new ArrayList<>();
        for (String address : addresses) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(address, credentials).build();
            try {
                return call.apply(ControlServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS));
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
                    throw AdminException.failed(e.getStatus().getDescription()); // every node would say the same
                }
                failures.add(address + ": " + e.getStatus().getCode()
                        + (e.getStatus().getDescription() == null ? "" : " " + e.getStatus().getDescription()));
            } finally {
                channel.shutdownNow();
            }
        }
        throw AdminException.unreachable("no node answered: " + String.join("; ", failures)
                + " (is the cluster running? --bootstrap takes the control port, 9292 by default)");
    }
}
