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
 * The gRPC binding of {@code fluxmq.control.v1.RaftControl} (raft_control.proto), written by hand like
 * {@link ControlServiceGrpc} (docs/adr/0001); {@code RaftControlGrpcTest} checks it against the proto descriptor.
 * Thread-safe.
 */
public final class RaftControlGrpc {
    public static final String SERVICE_NAME = "fluxmq.control.v1.RaftControl";

    public static final MethodDescriptor<TransferLeaderRequest, TransferLeaderReply> TRANSFER_LEADER =
            unary("TransferLeader", TransferLeaderRequest.getDefaultInstance(), TransferLeaderReply.getDefaultInstance());
    public static final MethodDescriptor<RaftStatusRequest, RaftStatusReply> RAFT_STATUS =
            unary("RaftStatus", RaftStatusRequest.getDefaultInstance(), RaftStatusReply.getDefaultInstance());
    public static final MethodDescriptor<WriteTxnMarkerRequest, WriteTxnMarkerReply> WRITE_TXN_MARKER =
            unary("WriteTxnMarker", WriteTxnMarkerRequest.getDefaultInstance(),
                    WriteTxnMarkerReply.getDefaultInstance());
    public static final MethodDescriptor<AddPartitionsToTxnRequest, AddPartitionsToTxnReply> ADD_PARTITIONS_TO_TXN =
            unary("AddPartitionsToTxn", AddPartitionsToTxnRequest.getDefaultInstance(),
                    AddPartitionsToTxnReply.getDefaultInstance());
    public static final MethodDescriptor<TakeSnapshotRequest, TakeSnapshotReply> TAKE_SNAPSHOT =
            unary("TakeSnapshot", TakeSnapshotRequest.getDefaultInstance(), TakeSnapshotReply.getDefaultInstance());

    private RaftControlGrpc() {
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
        default void transferLeader(TransferLeaderRequest request, StreamObserver<TransferLeaderReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(TRANSFER_LEADER.getFullMethodName())
                    .asRuntimeException());
        }

        default void raftStatus(RaftStatusRequest request, StreamObserver<RaftStatusReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(RAFT_STATUS.getFullMethodName()).asRuntimeException());
        }

        default void writeTxnMarker(WriteTxnMarkerRequest request, StreamObserver<WriteTxnMarkerReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(WRITE_TXN_MARKER.getFullMethodName())
                    .asRuntimeException());
        }

        default void addPartitionsToTxn(AddPartitionsToTxnRequest request,
                                        StreamObserver<AddPartitionsToTxnReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(ADD_PARTITIONS_TO_TXN.getFullMethodName())
                    .asRuntimeException());
        }

        default void takeSnapshot(TakeSnapshotRequest request, StreamObserver<TakeSnapshotReply> reply) {
            reply.onError(Status.UNIMPLEMENTED.withDescription(TAKE_SNAPSHOT.getFullMethodName()).asRuntimeException());
        }
    }

    public static ServerServiceDefinition bindService(AsyncService service) {
        return ServerServiceDefinition.builder(SERVICE_NAME)
                .addMethod(TRANSFER_LEADER, ServerCalls.asyncUnaryCall(service::transferLeader))
                .addMethod(RAFT_STATUS, ServerCalls.asyncUnaryCall(service::raftStatus))
                .addMethod(WRITE_TXN_MARKER, ServerCalls.asyncUnaryCall(service::writeTxnMarker))
                .addMethod(ADD_PARTITIONS_TO_TXN, ServerCalls.asyncUnaryCall(service::addPartitionsToTxn))
                .addMethod(TAKE_SNAPSHOT, ServerCalls.asyncUnaryCall(service::takeSnapshot))
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

        public TransferLeaderReply transferLeader(TransferLeaderRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), TRANSFER_LEADER, getCallOptions(), request);
        }

        public RaftStatusReply raftStatus(RaftStatusRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), RAFT_STATUS, getCallOptions(), request);
        }

        public WriteTxnMarkerReply writeTxnMarker(WriteTxnMarkerRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), WRITE_TXN_MARKER, getCallOptions(), request);
        }

        public AddPartitionsToTxnReply addPartitionsToTxn(AddPartitionsToTxnRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), ADD_PARTITIONS_TO_TXN, getCallOptions(), request);
        }

        public TakeSnapshotReply takeSnapshot(TakeSnapshotRequest request) {
            return ClientCalls.blockingUnaryCall(getChannel(), TAKE_SNAPSHOT, getCallOptions(), request);
        }
    }
}
