package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.RaftControlGrpc;
import io.grpc.MethodDescriptor;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every method of the control services has the cluster operation it needs: a new RPC must be given one. */
class ControlAuthorizerTest {
    @Test
    void everyControlMethodNeedsAnOperation() {
        Set<String> methods = new TreeSet<>();
        Stream.concat(ControlServiceGrpc.bindService(new ControlServiceGrpc.AsyncService() {
                }).getServiceDescriptor().getMethods().stream(), RaftControlGrpc.bindService(
                        new RaftControlGrpc.AsyncService() {
                        }).getServiceDescriptor().getMethods().stream())
                .map(MethodDescriptor::getBareMethodName).forEach(methods::add);
        assertThat(new TreeSet<>(ControlAuthorizer.OPERATIONS.keySet())).isEqualTo(methods);
    }
}
