package io.fluxmq.node;

import io.fluxmq.control.v1.AllocateNodeIdReply;
import io.fluxmq.control.v1.AllocateNodeIdRequest;
import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.ControllerReply;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link NodeIdAllocation.Allocator} over the control service: asks each seed's control address in turn (a seed that
 * is not the controller leader forwards the call, or names the leader, which is asked next), over the cluster's TLS
 * when {@code cluster.security.protocol=SSL}; rounds repeat every second until {@code timeoutMs}.
 */
final class GrpcNodeIdAllocator implements NodeIdAllocation.Allocator {
    private static final Logger LOGGER = LoggerFactory.getLogger(GrpcNodeIdAllocator.class);
    private static final long CALL_TIMEOUT_MS = 5_000;
    private static final long ROUND_PAUSE_MS = 1_000;

    private final long timeoutMs;

    GrpcNodeIdAllocator(long timeoutMs) {
        this.timeoutMs = timeoutMs;
    }

    @Override
    public NodeIdAllocation.Allocated allocate(List<ClusterMember> seeds, Map<String, String> settings,
                                               String clusterId, int minNodeId) throws IOException {
        ClusterTls tls = ClusterTls.parse(settings);
        ChannelCredentials credentials = tls == null ? InsecureChannelCredentials.create() : tls.channelCredentials();
        AllocateNodeIdRequest request = AllocateNodeIdRequest.newBuilder().setClusterId(clusterId)
                .setMinNodeId(minNodeId).build();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String lastProblem = "no seed was asked";
        while (true) {
            Deque<String> addresses = new ArrayDeque<>();
            seeds.forEach(s -> addresses.add(s.controlAddress()));
            Set<String> asked = new LinkedHashSet<>();
            while (!addresses.isEmpty()) {
                String address = addresses.poll();
                if (!asked.add(address)) {
                    continue;
                }
                ManagedChannel channel = NettyChannelBuilder.forTarget(address, credentials).build();
                try {
                    AllocateNodeIdReply reply = ControlServiceGrpc.newBlockingStub(channel)
                            .withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS).allocateNodeId(request);
                    ControllerReply result = reply.getResult();
                    switch (result.getStatus()) {
                        case STATUS_ACCEPTED -> {
                            LOGGER.info("The cluster {} gave this node the id {} (asked {})", reply.getClusterId(),
                                    reply.getNodeId(), address);
                            return new NodeIdAllocation.Allocated(reply.getNodeId(), reply.getClusterId(),
                                    reply.getControllerIdsList());
                        }
                        case STATUS_REJECTED -> throw new NodeConfig.ConfigException("the cluster refused to give "
                                + "this node an id (asked " + address + "): " + result.getMessage());
                        default -> {
                            lastProblem = address + ": " + result.getMessage();
                            if (!result.getControllerAddress().isEmpty()) {
                                addresses.addFirst(result.getControllerAddress());
                            }
                        }
                    }
                } catch (StatusRuntimeException e) {
                    lastProblem = address + ": " + e.getStatus();
                } finally {
                    channel.shutdownNow();
                }
            }
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ROUND_PAUSE_MS) > deadline) {
                throw new IOException("no controller gave this node an id within " + timeoutMs + " ms (node.id=-1; "
                        + "cluster.nodes names the controllers to ask); last answer: " + lastProblem);
            }
            LOGGER.info("Asking the cluster for a node id: {}; asking again", lastProblem);
            try {
                Thread.sleep(ROUND_PAUSE_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while asking the cluster for a node id", e);
            }
        }
    }
}
