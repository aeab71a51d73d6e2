package io.fluxmq.control.v1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The hand-written RaftControl binding matches raft_control.proto and carries calls end to end. */
class RaftControlGrpcTest {

    @Test
    void bindingMatchesTheProtoService() {
        ServiceDescriptor service = RaftControlProto.getDescriptor().findServiceByName("RaftControl");
        assertThat(service.getFullName()).isEqualTo(RaftControlGrpc.SERVICE_NAME);
        List<io.grpc.MethodDescriptor<?, ?>> bound = List.of(RaftControlGrpc.TRANSFER_LEADER,
                RaftControlGrpc.RAFT_STATUS, RaftControlGrpc.WRITE_TXN_MARKER, RaftControlGrpc.ADD_PARTITIONS_TO_TXN,
                RaftControlGrpc.TAKE_SNAPSHOT);
        assertThat(bound).hasSize(service.getMethods().size());
        for (MethodDescriptor m : service.getMethods()) {
            io.grpc.MethodDescriptor<?, ?> b = bound.stream()
                    .filter(x -> x.getBareMethodName().equals(m.getName())).findFirst().orElseThrow();
            assertThat(b.getType()).isEqualTo(io.grpc.MethodDescriptor.MethodType.UNARY);
            assertThat(m.isClientStreaming() || m.isServerStreaming()).isFalse();
            assertThat(typeName(b.getRequestMarshaller())).isEqualTo(m.getInputType().getFullName());
            assertThat(typeName(b.getResponseMarshaller())).isEqualTo(m.getOutputType().getFullName());
        }
    }

    private static String typeName(io.grpc.MethodDescriptor.Marshaller<?> marshaller) {
        Object prototype = ((io.grpc.MethodDescriptor.PrototypeMarshaller<?>) marshaller).getMessagePrototype();
        return ((com.google.protobuf.Message) prototype).getDescriptorForType().getFullName();
    }

    @Test
    void callsTravelThroughAServerAndUnimplementedMethodsSaySo() throws Exception {
        RaftControlGrpc.AsyncService service = new RaftControlGrpc.AsyncService() {
            @Override
            public void transferLeader(TransferLeaderRequest request, StreamObserver<TransferLeaderReply> reply) {
                reply.onNext(TransferLeaderReply.newBuilder().setStatus(TransferLeaderReply.Status.STATUS_TRANSFERRED)
                        .setLeader(request.getTargetNode()).build());
                reply.onCompleted();
            }
        };
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(RaftControlGrpc.bindService(service)).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            RaftControlGrpc.BlockingStub stub = RaftControlGrpc.newBlockingStub(channel);
            TransferLeaderReply reply = stub.transferLeader(TransferLeaderRequest.newBuilder().setTopic("t")
                    .setTargetNode(2).build());
            assertThat(reply.getStatus()).isEqualTo(TransferLeaderReply.Status.STATUS_TRANSFERRED);
            assertThat(reply.getLeader()).isEqualTo(2);
            assertThatThrownBy(() -> stub.raftStatus(RaftStatusRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
