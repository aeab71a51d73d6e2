package io.fluxmq.node;

import io.fluxmq.control.v1.AllocateNodeIdReply;
import io.fluxmq.control.v1.AllocateNodeIdRequest;
import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.ControllerReply;
import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.DescribeNodesRequest;
import io.fluxmq.control.v1.HeartbeatRequest;
import io.fluxmq.control.v1.RegisterRequest;
import io.fluxmq.control.v1.SetNodeMembershipRequest;
import io.fluxmq.raft.metadata.NodeRecord;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC {@code ControlService} of this node. Register and Heartbeat go to the {@link NodeController} (which
 * answers {@code NOT_CONTROLLER} with the leader's address unless this node is the metadata leader). DescribeNodes
 * is forwarded to the controller leader so the heartbeat ages are real; if that fails it is answered from this
 * node's copy of the metadata. SetNodeMembership (decommission, recommission) and AllocateNodeId are forwarded to the
 * controller leader.
 * Never blocks a gRPC thread.
 */
final class ControlService implements ControlServiceGrpc.AsyncService {
    private static final Logger LOGGER = LoggerFactory.getLogger(ControlService.class);
    private static final long FORWARD_TIMEOUT_MS = 3_000;

    private final int nodeId;
    private final NodeController controller;
    private final NodeController.Leadership leadership;
    private final ControlChannels peers;

    ControlService(int nodeId, NodeController controller, NodeController.Leadership leadership,
                   ControlChannels peers) {
        this.nodeId = nodeId;
        this.controller = controller;
        this.leadership = leadership;
        this.peers = peers;
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<ControllerReply> reply) {
        complete(controller.register(request), reply);
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<ControllerReply> reply) {
        complete(controller.heartbeat(request), reply);
    }

    @Override
    public void describeNodes(DescribeNodesRequest request, StreamObserver<DescribeNodesReply> reply) {
        int leader = leadership.leaderId();
        if (request.getNoForward() || leadership.readyLeaderTerm() >= 0 || leader < 0 || leader == nodeId) {
            complete(CompletableFuture.completedFuture(controller.describe()), reply);
            return;
        }
        ClientCalls.asyncUnaryCall(peers.channel(leader).newCall(ControlServiceGrpc.DESCRIBE_NODES,
                        CallOptions.DEFAULT.withDeadlineAfter(FORWARD_TIMEOUT_MS, TimeUnit.MILLISECONDS)),
                request.toBuilder().setNoForward(true).build(), new StreamObserver<>() {
                    private DescribeNodesReply answer;

                    @Override
                    public void onNext(DescribeNodesReply value) {
                        answer = value;
                    }

                    @Override
                    public void onError(Throwable t) {
                        LOGGER.info("DescribeNodes: controller leader {} did not answer ({}); answering locally", leader,
                                Status.fromThrowable(t));
                        peers.discard(leader);
                        complete(CompletableFuture.completedFuture(controller.describe()), reply);
                    }

                    @Override
                    public void onCompleted() {
                        complete(CompletableFuture.completedFuture(answer), reply);
                    }
                });
    }

    @Override
    public void setNodeMembership(SetNodeMembershipRequest request, StreamObserver<ControllerReply> reply) {
        NodeRecord.Membership membership;
        switch (request.getMembership()) {
            case NODE_MEMBERSHIP_ACTIVE -> membership = NodeRecord.Membership.ACTIVE;
            case NODE_MEMBERSHIP_DECOMMISSIONING -> membership = NodeRecord.Membership.DECOMMISSIONING;
            case NODE_MEMBERSHIP_REMOVED -> membership = NodeRecord.Membership.REMOVED;
            default -> {
                reply.onError(Status.INVALID_ARGUMENT.withDescription("membership must be ACTIVE (recommission), "
                        + "DECOMMISSIONING (decommission) or REMOVED (remove), not " + request.getMembership())
                        .asRuntimeException());
                return;
            }
        }
        if (answerHere(request.getNoForward())) {
            complete(controller.setMembership(request.getNodeId(), membership), reply);
            return;
        }
        forward(ControlServiceGrpc.SET_NODE_MEMBERSHIP, request.toBuilder().setNoForward(true).build(), reply);
    }

    @Override
    public void allocateNodeId(AllocateNodeIdRequest request, StreamObserver<AllocateNodeIdReply> reply) {
        if (answerHere(request.getNoForward())) {
            complete(controller.allocateNodeId(request.getClusterId(), request.getMinNodeId()), reply);
            return;
        }
        forward(ControlServiceGrpc.ALLOCATE_NODE_ID, request.toBuilder().setNoForward(true).build(), reply);
    }

    /** Whether this node answers itself: asked not to forward, the ready leader, or no other leader known. */
    private boolean answerHere(boolean noForward) {
        int leader = leadership.leaderId();
        return noForward || leadership.readyLeaderTerm() >= 0 || leader < 0 || leader == nodeId;
    }

    /** Sends {@code request} to the controller leader and relays its answer; UNAVAILABLE when it does not answer. */
    private <Q, R> void forward(MethodDescriptor<Q, R> method, Q request, StreamObserver<R> reply) {
        int leader = leadership.leaderId();
        ClientCalls.asyncUnaryCall(peers.channel(leader).newCall(method,
                        CallOptions.DEFAULT.withDeadlineAfter(FORWARD_TIMEOUT_MS, TimeUnit.MILLISECONDS)),
                request, new StreamObserver<>() {
                    private R answer;

                    @Override
                    public void onNext(R value) {
                        answer = value;
                    }

                    @Override
                    public void onError(Throwable t) {
                        peers.discard(leader);
                        reply.onError(Status.UNAVAILABLE.withDescription("controller leader " + leader
                                + " did not answer: " + Status.fromThrowable(t)).asRuntimeException());
                    }

                    @Override
                    public void onCompleted() {
                        complete(CompletableFuture.completedFuture(answer), reply);
                    }
                });
    }

    private static <T> void complete(CompletableFuture<T> future, StreamObserver<T> reply) {
        future.whenComplete((value, e) -> {
            if (e != null) {
                reply.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            } else {
                reply.onNext(value);
                reply.onCompleted();
            }
        });
    }
}
