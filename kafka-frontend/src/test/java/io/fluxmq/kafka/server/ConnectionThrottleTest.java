package io.fluxmq.kafka.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.Test;

/**
 * A handler that throttles its request (a client over its quota) mutes the connection: the response goes out at
 * once, the connection stops reading for the throttle time and reads again after it. The handler sees the request's
 * size on the wire.
 */
class ConnectionThrottleTest {
    private final AtomicLong requestBytes = new AtomicLong();

    /** ApiVersions answered after muting the connection for 200 ms. */
    private final ApiHandler<ApiVersionsRequestData> throttling = TestConnections.apiVersions(context -> {
        requestBytes.set(context.requestBytes());
        context.throttle(200);
        return new ApiVersionsResponseData().setThrottleTimeMs(200);
    });

    @Test
    void aThrottledRequestMutesItsConnectionForTheThrottleTime() throws Exception {
        EmbeddedChannel channel = TestConnections.channel(new ApiRegistry(List.of(throttling)));
        RequestHeader header = new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "client", 1);
        ByteBuf frame = Unpooled.wrappedBuffer(RequestUtils.serialize(header.data(), header.headerVersion(),
                new ApiVersionsRequestData().setClientSoftwareName("t").setClientSoftwareVersion("1"), (short) 3));
        int frameBytes = frame.readableBytes();
        assertThat(channel.config().isAutoRead()).isTrue();

        channel.writeInbound(frame);
        channel.runPendingTasks();
        ByteBuf response = channel.readOutbound();
        assertThat(response).as("the throttled response goes out at once").isNotNull();
        response.release();
        assertThat(requestBytes.get()).isEqualTo(frameBytes + 4L);
        assertThat(channel.config().isAutoRead()).as("muted").isFalse();

        long mutedAt = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!channel.config().isAutoRead() && System.nanoTime() < deadline) {
            channel.runScheduledPendingTasks(); // the unmute is a task scheduled for the throttle time
            Thread.onSpinWait();
        }
        assertThat(channel.config().isAutoRead()).as("reading again after the throttle time").isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - mutedAt)).isGreaterThanOrEqualTo(150);
        channel.close();
    }
}
