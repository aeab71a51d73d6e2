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

/** The hand-written binding matches the service in control.proto and carries calls end to end. */
class ControlServiceGrpcTest {

    @Test
    void bindingMatchesTheProtoService() {
        ServiceDescriptor service = ControlProto.getDescriptor().findServiceByName("ControlService");
        assertThat(service.getFullName()).isEqualTo(ControlServiceGrpc.SERVICE_NAME);
        List<io.grpc.MethodDescriptor<?, ?>> bound = List.of(ControlServiceGrpc.REGISTER, ControlServiceGrpc.HEARTBEAT,
                ControlServiceGrpc.DESCRIBE_NODES, ControlServiceGrpc.SET_NODE_MEMBERSHIP,
                ControlServiceGrpc.ALLOCATE_NODE_ID);
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
        ControlServiceGrpc.AsyncService service = new ControlServiceGrpc.AsyncService() {
            @Override
            public void heartbeat(HeartbeatRequest request, StreamObserver<ControllerReply> reply) {
                reply.onNext(ControllerReply.newBuilder().setStatus(ControllerReply.Status.STATUS_ACCEPTED)
                        .setMetadataEpoch(request.getIncarnation() + 1).setControllerId(request.getNodeId()).build());
                reply.onCompleted();
            }
        };
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ControlServiceGrpc.bindService(service)).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            ControlServiceGrpc.BlockingStub stub = ControlServiceGrpc.newBlockingStub(channel);
            ControllerReply reply = stub.heartbeat(HeartbeatRequest.newBuilder().setNodeId(7).setIncarnation(41).build());
            assertThat(reply.getStatus()).isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
            assertThat(reply.getMetadataEpoch()).isEqualTo(42);
            assertThat(reply.getControllerId()).isEqualTo(7);
            assertThatThrownBy(() -> stub.describeNodes(DescribeNodesRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
