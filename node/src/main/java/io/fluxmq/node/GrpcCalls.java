package io.fluxmq.node;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A unary gRPC call as a {@link CompletableFuture}, for node-to-node forwarding that must not block a thread. */
final class GrpcCalls {
    private GrpcCalls() {
    }

    /** Completes with the answer, or exceptionally with the call's {@code StatusRuntimeException}. */
    static <Q, A> CompletableFuture<A> unary(Channel channel, MethodDescriptor<Q, A> method, Q request,
                                             long deadlineMs) {
        CompletableFuture<A> answer = new CompletableFuture<>();
        ClientCalls.asyncUnaryCall(channel.newCall(method,
                        CallOptions.DEFAULT.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)), request,
                new StreamObserver<>() {
                    private A value;

                    @Override
                    public void onNext(A v) {
                        value = v;
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        answer.complete(value);
                    }
                });
        return answer;
    }
}
