package io.fluxmq.control.v1;

import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.AbstractBlockingStub;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * The gRPC binding of {@code fluxmq.control.v1.ControlService} (control.proto): method descriptors, a server-side
 * {@link AsyncService} and a {@link BlockingStub}. It stands in for the class protoc-gen-grpc-java would generate
 * (docs/adr/0001), with the same names; {@code ControlServiceGrpcTest} checks it against the service in the
 * proto descriptor. Thread-safe.
 */
public final class ControlServiceGrpc {
    public static final String SERVICE_NAME = "fluxmq.control.v1.ControlService";

    public static final MethodDescriptor<RegisterRequest, ControllerReply> REGISTER =
            unary("Register", RegisterRequest.getDefaultInstance(), ControllerReply.getDefaultInstance());
    public static final MethodDescriptor<HeartbeatRequest, ControllerReply> HEARTBEAT =
            unary("Heartbeat", HeartbeatRequest.getDefaultInstance(), ControllerReply.getDefaultInstance());
    public static final MethodDescriptor<DescribeNodesRequest, DescribeNodesReply> DESCRIBE_NODES =
            unary("DescribeNodes", DescribeNodesRequest.getDefaultInstance(), DescribeNodesReply.getDefaultInstance());
    public static final MethodDescriptor<SetNodeMembershipRequest, ControllerReply> SET_NODE_MEMBERSHIP =
            unary("SetNodeMembership", SetNodeMembershipRequest.getDefaultInstance(),
                    ControllerReply.getDefaultInstance());
    public static final MethodDescriptor<AllocateNodeIdRequest, AllocateNodeIdReply> ALLOCATE_NODE_ID =
            unary("AllocateNodeId", AllocateNodeIdRequest.getDefaultInstance(),
                    AllocateNodeIdReply.getDefaultInstance());

    private ControlServiceGrpc() {
    }

    private static <Q extends Message, A extends Message> MethodDescriptor<Q, A> unary(String name, Q request,
                                                                                        A reply) {
        return MethodDescriptor.<Q, A>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE_NAME, name))
                .setRequestMarshaller(ProtoUtils.marshaller(request))
                .setResponseMarshaller(ProtoUtils.marshaller(reply))
                .build();
    }

    /** The server side; a method not overridden answers {@code UNIMPLEMENTED}. */
    public interface AsyncService {
        default void register(RegisterRequest request, StreamObserver<ControllerReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(REGISTER.getFullMethodName()).asRuntimeException());
        }

        default void heartbeat(HeartbeatRequest request, StreamObserver<ControllerReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(HEARTBEAT.getFullMethodName()).asRuntimeException());
        }

        default void describeNodes(DescribeNodesRequest request, StreamObserver<DescribeNodesReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(DESCRIBE_NODES.getFullMethodName())
                    .asRuntimeException());
        }

        default void setNodeMembership(SetNodeMembershipRequest request, StreamObserver<ControllerReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(SET_NODE_MEMBERSHIP.getFullMethodName())
                    .asRuntimeException());
        }

        default void allocateNodeId(AllocateNodeIdRequest request, StreamObserver<AllocateNodeIdReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(ALLOCATE_NODE_ID.getFullMethodName())
                    .asRuntimeException());
        }
    }

    public static ServerServiceDefinition bindService(AsyncService service) {
        return ServerServiceDefinition.builder(SERVICE_NAME)
                .addMethod(REGISTER, ServerCalls.asyncUnaryCall(service::register))
                .addMethod(HEARTBEAT, ServerCalls.asyncUnaryCall(service::heartbeat))
                .addMethod(DESCRIBE_NODES, ServerCalls.asyncUnaryCall(service::describeNodes))
                .addMethod(SET_NODE_MEMBERSHIP, ServerCalls.asyncUnaryCall(service::setNodeMembership))
                .addMethod(ALLOCATE_NODE_ID, ServerCalls.asyncUnaryCall(service::allocateNodeId))
                .build();
    }

    public static BlockingStub newBlockingStub(Channel channel) {
        return new BlockingStub(channel, CallOptions.DEFAULT);
    }

    /** Blocking calls; failures surface as {@link io.grpc.StatusRuntimeException}. */
    public static final class BlockingStub extends AbstractBlockingStub<BlockingStub> {
        private BlockingStub(Channel channel, CallOptions options) {
            super(channel, options);
        }

        @Override
        protected BlockingStub build(Channel channel, CallOptions options) {
            return new BlockingStub(channel, options);
        }

        public ControllerReply register(RegisterRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), REGISTER, getCallOptions(), request);
        }

        public ControllerReply heartbeat(HeartbeatRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), HEARTBEAT, getCallOptions(), request);
        }

        public DescribeNodesReply describeNodes(DescribeNodesRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), DESCRIBE_NODES, getCallOptions(), request);
        }

        public ControllerReply setNodeMembership(SetNodeMembershipRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), SET_NODE_MEMBERSHIP, getCallOptions(), request);
        }

        public AllocateNodeIdReply allocateNodeId(AllocateNodeIdRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), ALLOCATE_NODE_ID, getCallOptions(), request);
        }
    }
}
