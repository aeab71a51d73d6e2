package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/** A {@link ConnectionHandler} on an embedded channel from a loopback address, and an ApiVersions stub to serve. */
final class TestConnections {

    private TestConnections() {
    }

    /** A connection of listener EXTERNAL (10 requests in flight) from 127.0.0.1:50000. */
    static EmbeddedChannel channel(ApiRegistry registry) {
        return new EmbeddedChannel(new ConnectionHandler(registry, "EXTERNAL", 10, FrontendMetrics.NONE)) {
            @Override
            protected SocketAddress remoteAddress0() {
                return new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000);
            }
        };
    }

    /** ApiVersions v0–3 answered by {@code answer} (which may throttle, spin, record the context, ...). */
    static ApiHandler<ApiVersionsRequestData> apiVersions(Function<RequestContext, ApiMessage> answer) {
        return new ApiHandler<>() {
            @Override
            public ApiKeys apiKey() {
                return ApiKeys.API_VERSIONS;
            }

            @Override
            public short minVersion() {
                return 0;
            }

            @Override
            public short maxVersion() {
                return 3;
            }

            @Override
            public CompletableFuture<ApiMessage> handle(RequestContext context, ApiVersionsRequestData request) {
                return CompletableFuture.completedFuture(answer.apply(context));
            }
        };
    }
}
