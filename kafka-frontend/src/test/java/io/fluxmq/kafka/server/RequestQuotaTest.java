package io.fluxmq.kafka.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import io.fluxmq.kafka.quota.ClientQuotaConfig;
import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.Test;

/**
 * {@code request_percentage}, as Kafka enforces it: the time spent handling a client's requests is charged to its
 * quota in percent of one thread; over the bound the response carries {@code throttle_time_ms} (at most one quota
 * window, 1 s by default) and the connection is muted for it. A client id without a quota is never throttled.
 */
class RequestQuotaTest {

    /** ApiVersions that keeps its thread busy for 50 ms. */
    private final ApiHandler<ApiVersionsRequestData> busy = TestConnections.apiVersions(context -> {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        return new ApiVersionsResponseData();
    });

    private EmbeddedChannel channel(ClientQuotaManager quotas) {
        return TestConnections.channel(new ApiRegistry(List.of(busy), List.of(), quotas));
    }

    /** Sends one ApiVersions v3 as {@code clientId} and returns the throttle time of its response. */
    private static int throttleOf(EmbeddedChannel channel, String clientId, int correlationId) {
        RequestHeader header = new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, clientId, correlationId);
        channel.writeInbound(Unpooled.wrappedBuffer(RequestUtils.serialize(header.data(), header.headerVersion(),
                new ApiVersionsRequestData().setClientSoftwareName("t").setClientSoftwareVersion("1"), (short) 3)));
        channel.runPendingTasks();
        ByteBuf response = channel.readOutbound();
        assertThat(response).as("response to %s", clientId).isNotNull();
        try {
            ByteBuffer buffer = response.nioBuffer();
            buffer.getInt(); // frame size
            ResponseHeader.parse(buffer, ApiKeys.API_VERSIONS.responseHeaderVersion((short) 3));
            ApiVersionsResponseData data = new ApiVersionsResponseData(new ByteBufferAccessor(buffer), (short) 3);
            return data.throttleTimeMs();
        } finally {
            response.release();
        }
    }

    @Test
    void aClientOverItsRequestPercentageIsThrottledAndMuted() {
        ClientQuotaManager quotas = new ClientQuotaManager(ClientQuotaConfig.DEFAULTS, Time.SYSTEM);
        Map<String, String> busyClient = new HashMap<>();
        busyClient.put(ClientQuotaEntity.CLIENT_ID, "busy");
        // 0.1 % of a thread: 1 ms a second; 50 ms over the fresh rate's 10 s window is 0.5 %
        quotas.update(Map.of(new ClientQuotaEntity(busyClient), Map.of("request_percentage", 0.1)));

        EmbeddedChannel free = channel(quotas);
        assertThat(throttleOf(free, "free", 1)).as("a client id without a quota").isZero();
        assertThat(free.config().isAutoRead()).isTrue();
        free.close();

        EmbeddedChannel held = channel(quotas);
        // (0.5 - 0.1) / 0.1 × 10 s = 40 s, capped at one window as Kafka does
        assertThat(throttleOf(held, "busy", 1)).isEqualTo(1000);
        assertThat(held.config().isAutoRead()).as("muted").isFalse();
        held.close();
    }

    @Test
    void withoutARequestQuotaNothingIsThrottled() {
        ClientQuotaManager quotas = new ClientQuotaManager(ClientQuotaConfig.DEFAULTS, Time.SYSTEM);
        Map<String, String> busyClient = new HashMap<>();
        busyClient.put(ClientQuotaEntity.CLIENT_ID, "busy");
        quotas.update(Map.of(new ClientQuotaEntity(busyClient), Map.of("producer_byte_rate", 1.0)));
        EmbeddedChannel channel = channel(quotas);
        assertThat(throttleOf(channel, "busy", 1)).isZero();
        assertThat(channel.config().isAutoRead()).isTrue();
        channel.close();
    }
}
