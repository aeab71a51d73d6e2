package io.fluxmq.kafka.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Every version of every handler round-trips through the codec: what kafka-clients writes, {@link RequestDecoder}
 * reads back field for field; what a handler answers, {@link ResponseEncoder} frames so that kafka-clients parses it
 * to the same data.
 */
class ProtocolCodecTest {
    private static final ApiRegistry REGISTRY = FakeBrokerServices.registry();
    private static final RequestDecoder DECODER = new RequestDecoder(REGISTRY);
    private static final int CORRELATION_ID = 7;
    private static final InetSocketAddress CLIENT = InetSocketAddress.createUnresolved("client.example", 50_000);

    static Stream<Arguments> everyHandlerVersion() {
        return REGISTRY.handlers().stream()
                .sorted(Comparator.comparingInt(h -> h.apiKey().id))
                .flatMap(h -> IntStream.rangeClosed(h.minVersion(), h.maxVersion())
                        .mapToObj(v -> Arguments.of(h.apiKey(), (short) v)));
    }

    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("everyHandlerVersion")
    void decoderReadsWhatKafkaClientsWrite(ApiKeys key, short version) {
        ApiMessage sent = SampleRequests.of(key, version);
        RequestHeader header = header(key, version);

        KafkaRequest decoded = decode(wire(header, sent));

        assertThat(decoded.header()).isEqualTo(header);
        assertThat(decoded.apiKey()).isEqualTo(key);
        assertThat(decoded.version()).isEqualTo(version);
        assertThat(decoded.correlationId()).isEqualTo(CORRELATION_ID);
        assertThat(decoded.header().clientId()).isEqualTo("client");
        assertThat(decoded.body()).isEqualTo(sent);
    }

    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("everyHandlerVersion")
    void kafkaClientsParseWhatHandlersAnswer(ApiKeys key, short version) throws Exception {
        RequestHeader header = header(key, version);
        KafkaRequest request = decode(wire(header, SampleRequests.of(key, version)));
        ApiHandler<ApiMessage> handler = handler(key);
        assertThat(handler.expectsResponse(request.body())).isTrue();

        ApiMessage answered = handler.handle(context(request), request.body()).get(5, TimeUnit.SECONDS);
        assertThat(answered.apiKey()).isEqualTo(key.id);
        ByteBuffer frame = ResponseEncoder.encode(key, version, CORRELATION_ID, answered);

        assertThat(frame.getInt()).as("length prefix").isEqualTo(frame.remaining());
        AbstractResponse parsed = AbstractResponse.parseResponse(frame, header);
        assertThat(frame.remaining()).as("bytes after the response body").isZero();
        assertThat(parsed.apiKey()).isEqualTo(key);
        assertThat(parsed.data()).isEqualTo(asVersion(key, version, answered));
        short richest = richestShapeOf(key, version);
        assertThat(parsed.errorCounts()).as("errors survive the projection to v" + version)
                .isEqualTo(AbstractResponse.parseResponse(key, MessageUtil.toByteBufferAccessor(answered, richest),
                        richest).errorCounts());
    }

    @ParameterizedTest(name = "PRODUCE v{0}")
    @MethodSource("produceVersions")
    void produceWithAcksZeroGetsNoResponse(short version) throws Exception {
        ProduceRequestData sent = SampleRequests.produce((short) 0);
        KafkaRequest request = decode(wire(header(ApiKeys.PRODUCE, version), sent));
        assertThat(request.body()).isEqualTo(sent);

        ApiHandler<ApiMessage> handler = handler(ApiKeys.PRODUCE);
        assertThat(handler.expectsResponse(request.body())).isFalse();
        // the fake broker holds no replica, so the append fails: with acks=0 that closes the connection (Kafka)
        assertThat(handler.handle(context(request), request.body())).failsWithin(5, TimeUnit.SECONDS)
                .withThrowableThat().havingCause().isInstanceOf(io.fluxmq.kafka.api.CloseConnectionException.class);
    }

    static Stream<Short> produceVersions() {
        ApiHandler<?> produce = REGISTRY.handler(ApiKeys.PRODUCE);
        return IntStream.rangeClosed(produce.minVersion(), produce.maxVersion()).mapToObj(v -> (short) v);
    }

    @Test
    void everyVersionOfEveryHandlerIsCovered() {
        long pairs = REGISTRY.handlers().stream().mapToInt(h -> h.maxVersion() - h.minVersion() + 1).sum();
        assertThat(everyHandlerVersion().count()).isEqualTo(pairs);
        assertThat(REGISTRY.handlers()).allSatisfy(h -> assertThat(h.minVersion()).isLessThanOrEqualTo(h.maxVersion()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedFrames")
    void malformedFramesAreFatal(String description, ByteBuffer frame) {
        assertThat(DECODER.decode(frame)).isInstanceOf(RequestDecoder.Decoded.Fatal.class);
    }

    static Stream<Arguments> malformedFrames() {
        ByteBuffer metadata = wire(header(ApiKeys.METADATA, (short) 12), SampleRequests.of(ApiKeys.METADATA, (short) 12));
        ByteBuffer trailing = ByteBuffer.allocate(metadata.remaining() + 3).put(metadata.duplicate())
                .put(new byte[] {1, 2, 3}).flip();
        ByteBuffer clientIdTooLong = wire(header(ApiKeys.METADATA, (short) 4), SampleRequests.of(ApiKeys.METADATA,
                (short) 4)).putShort(8, (short) 30_000);
        return Stream.of(
                Arguments.of("empty frame", ByteBuffer.allocate(0)),
                Arguments.of("7-byte frame", ByteBuffer.wrap(new byte[] {0, 3, 0, 12, 0, 0, 0})),
                Arguments.of("header without client id", ByteBuffer.wrap(new byte[] {0, 3, 0, 4, 0, 0, 0, 9})),
                Arguments.of("body cut short", metadata.duplicate().limit(metadata.limit() - 2)),
                Arguments.of("bytes after the body", trailing),
                Arguments.of("client id longer than the frame", clientIdTooLong));
    }

    /**
     * The highest version with the same response layout as {@code version}: the handler's latest, except where the
     * layout itself changes (FindCoordinator batches from v4, OffsetFetch groups from v8), where a v0–3 or v1–7
     * answer is compared with the latest version of its own layout.
     */
    private static short richestShapeOf(ApiKeys key, short version) {
        if (key == ApiKeys.FIND_COORDINATOR && version < 4) {
            return 3;
        }
        if (key == ApiKeys.METADATA && version >= 8 && version <= 10) {
            return 10; // cluster authorized operations, asked for and answered, are gone from v11
        }
        if (key == ApiKeys.OFFSET_FETCH && version < 8) {
            return version < 2 ? version : 7; // v1 has no group-level error: each partition carries it
        }
        return REGISTRY.handler(key).maxVersion();
    }

    /** What kafka-clients itself makes of {@code data} at {@code version}: fields the version lacks are dropped. */
    private static ApiMessage asVersion(ApiKeys key, short version, ApiMessage data) {
        ByteBufferAccessor bytes = MessageUtil.toByteBufferAccessor(data, version);
        return AbstractResponse.parseResponse(key, bytes, version).data();
    }

    private static RequestHeader header(ApiKeys key, short version) {
        return new RequestHeader(key, version, "client", CORRELATION_ID);
    }

    /** The bytes kafka-clients' {@code AbstractRequest.serializeWithHeader} produces (no length prefix). */
    private static ByteBuffer wire(RequestHeader header, ApiMessage body) {
        return RequestUtils.serialize(header.data(), header.headerVersion(), body, header.apiVersion());
    }

    private static KafkaRequest decode(ByteBuffer frame) {
        RequestDecoder.Decoded decoded = DECODER.decode(frame);
        assertThat(decoded).isInstanceOf(RequestDecoder.Decoded.Request.class);
        return ((RequestDecoder.Decoded.Request) decoded).request();
    }

    private static RequestContext context(KafkaRequest request) {
        return new RequestContext(request.header(), "EXTERNAL", CLIENT, KafkaPrincipal.ANONYMOUS);
    }

    @SuppressWarnings("unchecked")
    private static ApiHandler<ApiMessage> handler(ApiKeys key) {
        return (ApiHandler<ApiMessage>) REGISTRY.handler(key);
    }
}
