package io.fluxmq.node;

import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.ControllerReply;
import io.fluxmq.control.v1.HeartbeatRequest;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.RegisterRequest;
import io.grpc.StatusRuntimeException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's side of liveness: on every {@link #beat()} (each {@code node.heartbeat.interval.ms}) it registers with
 * the metadata controller leader, or heartbeats once registered. It asks the node it last reached, then the metadata
 * leader this node's Raft server knows, then the leader a {@code NOT_CONTROLLER} answer names, then every controller
 * in turn. Runs on one thread.
 */
final class HeartbeatAgent {
    private static final Logger LOGGER = LoggerFactory.getLogger(HeartbeatAgent.class);
    private static final long REGISTER_DEADLINE_MS = 5_000;

    private final NodeConfig config;
    private final RegisterRequest registration;
    private final IntSupplier knownLeader;
    private final ControlChannels channels;
    private final long heartbeatDeadlineMs;
    /** Written on the liveness thread, read by {@link #registered()} on any. */
    private volatile boolean registered;
    private int lastController = -1;
    private String lastProblem = "";

    HeartbeatAgent(NodeConfig config, long incarnation, String version, IntSupplier knownLeader,
                   ControlChannels channels) {
        this.config = config;
        ClusterMember self = config.member(config.nodeId());
        this.registration = RegisterRequest.newBuilder().setNodeId(config.nodeId()).setVersion(version)
                .setIncarnation(incarnation).setRack(config.rack()).setClusterId(config.clusterId())
                .setEndpoint(NodeEndpoint.newBuilder().setHost(self.host()).setKafkaPort(self.kafkaPort())
                        .setRaftPort(self.raftPort()).setHttpPort(self.httpPort()).setControlPort(self.controlPort()))
                .build();
        this.knownLeader = knownLeader;
        this.channels = channels;
        this.heartbeatDeadlineMs = Math.max(1_000, config.heartbeatInterval().toMillis());
    }

    /** Whether the controller accepted this node's registration (and has not asked for it again since). */
    boolean registered() {
        return registered;
    }

    /** One registration or heartbeat round; never throws. */
    void beat() {
        Deque<Integer> candidates = new ArrayDeque<>();
        candidates.add(lastController);
        candidates.add(knownLeader.getAsInt());
        candidates.addAll(config.controllerIds());
        Set<Integer> tried = new HashSet<>();
        String problem = "no controller reachable";
        while (!candidates.isEmpty()) {
            int target = candidates.poll();
            if (target < 0 || !tried.add(target)) {
                continue;
            }
            try {
                ControllerReply reply = send(target);
                if (reply.getStatus() == ControllerReply.Status.STATUS_REGISTRATION_REQUIRED) {
                    registered = false;
                    reply = send(target);
                }
                switch (reply.getStatus()) {
                    case STATUS_ACCEPTED -> {
                        if (!registered || target != lastController) {
                            LOGGER.info("Node {} {} with controller {} (metadata epoch {})", config.nodeId(),
                                    registered ? "heartbeats" : "registered", target, reply.getMetadataEpoch());
                        }
                        registered = true;
                        lastController = target;
                        lastProblem = "";
                        return;
                    }
                    case STATUS_NOT_CONTROLLER -> {
                        if (reply.getControllerId() >= 0) {
                            candidates.addFirst(reply.getControllerId());
                        }
                    }
                    default -> problem = "controller " + target + " answered " + reply.getStatus() + ": "
                            + reply.getMessage();
                }
            } catch (StatusRuntimeException e) {
                problem = "controller " + target + ": " + e.getStatus();
                channels.discard(target);
            } catch (RuntimeException e) {
                problem = "controller " + target + ": " + e;
            }
        }
        lastController = -1;
        if (!problem.equals(lastProblem)) {
            LOGGER.warn("Node {} could not {}: {}", config.nodeId(), registered ? "heartbeat" : "register", problem);
            lastProblem = problem;
        }
    }

    private ControllerReply send(int target) {
        ControlServiceGrpc.BlockingStub stub = ControlServiceGrpc.newBlockingStub(channels.channel(target));
        if (!registered) {
            return stub.withDeadlineAfter(REGISTER_DEADLINE_MS, TimeUnit.MILLISECONDS).register(registration);
        }
        return stub.withDeadlineAfter(heartbeatDeadlineMs, TimeUnit.MILLISECONDS).heartbeat(HeartbeatRequest
                .newBuilder().setNodeId(config.nodeId()).setIncarnation(registration.getIncarnation()).build());
    }
}
