package io.fluxmq.kafka.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.Test;

/** What a connection reports to {@link FrontendMetrics}: its opening and closing, and one timing per request. */
class ConnectionMetricsTest {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<Long> nanos = new CopyOnWriteArrayList<>();

    private final FrontendMetrics recording = new FrontendMetrics() {
        @Override
        public void requestDone(ApiKeys api, long n) {
            events.add(api.name);
            nanos.add(n);
        }

        @Override
        public void connectionOpened(String listener) {
            events.add("open " + listener);
        }

        @Override
        public void connectionClosed(String listener) {
            events.add("close " + listener);
        }

        @Override
        public TopicMeters topic(String topic) {
            return TopicMeters.NONE;
        }
    };

    private static ByteBuf frame(ApiKeys key, short version, int correlationId, ApiMessage body) {
        RequestHeader header = new RequestHeader(key, version, "client", correlationId);
        return Unpooled.wrappedBuffer(RequestUtils.serialize(header.data(), header.headerVersion(), body, version));
    }

    @Test
    void reportsTheConnectionAndOneTimingPerRequest() {
        EmbeddedChannel channel = new EmbeddedChannel(
                new ConnectionHandler(FakeBrokerServices.registry(), "EXTERNAL", 10, recording)) {
            @Override
            protected SocketAddress remoteAddress0() { // the handler reads the client's address as a socket address
                return new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000);
            }
        };
        assertThat(events).containsExactly("open EXTERNAL");

        channel.writeInbound(frame(ApiKeys.API_VERSIONS, (short) 3, 1, new ApiVersionsRequestData()
                .setClientSoftwareName("test").setClientSoftwareVersion("1")));
        channel.writeInbound(frame(ApiKeys.METADATA, (short) 12, 2, SampleRequests.of(ApiKeys.METADATA, (short) 12)));
        channel.runPendingTasks();
        for (int i = 0; i < 2; i++) {
            ByteBuf response = channel.readOutbound();
            assertThat(response).as("response " + i).isNotNull();
            response.release();
        }
        channel.close();

        assertThat(events).containsExactly("open EXTERNAL", "ApiVersions", "Metadata", "close EXTERNAL");
        assertThat(nanos).allSatisfy(n -> assertThat(n).isPositive());
    }
}
