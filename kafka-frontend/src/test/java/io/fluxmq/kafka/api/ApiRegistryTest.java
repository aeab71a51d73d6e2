package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.server.RequestDecoder;
import io.fluxmq.kafka.server.RequestDecoder.Decoded;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/** The registry is the single source of truth for what FluxMQ advertises, and what the decoder lets through. */
class ApiRegistryTest {
    private static final ApiRegistry REGISTRY = FakeBrokerServices.registry();
    private static final RequestDecoder DECODER = new RequestDecoder(REGISTRY);

    @Test
    void everyAdvertisedApiHasAHandlerWithTheSameRange() throws Exception {
        RequestHeader header = new RequestHeader(ApiKeys.API_VERSIONS, (short) 4, "client", 1);
        ApiMessage answer = ((ApiVersionsHandler) REGISTRY.handler(ApiKeys.API_VERSIONS))
                .handle(new RequestContext(header, "EXTERNAL", new InetSocketAddress(0), KafkaPrincipal.ANONYMOUS),
                        new ApiVersionsRequestData().setClientSoftwareName("java").setClientSoftwareVersion("4.1.1"))
                .get(5, TimeUnit.SECONDS);
        ApiVersionsResponseData data = (ApiVersionsResponseData) answer;

        assertThat(data.errorCode()).isEqualTo(Errors.NONE.code());
        assertAdvertisesExactlyTheRegistry(data);
    }

    /** The transaction.version feature, which makes Kafka 4 clients use transaction version 2 at level 2. */
    @ParameterizedTest(name = "ApiVersions v{0}")
    @ValueSource(shorts = {2, 3, 4})
    void transactionVersionIsAdvertisedAsAFinalizedFeature(short version) throws Exception {
        for (short level : new short[] {1, 2}) {
            ApiVersionsHandler handler = new ApiVersionsHandler(() -> REGISTRY, level);
            RequestHeader header = new RequestHeader(ApiKeys.API_VERSIONS, version, "client", 1);
            ApiVersionsResponseData data = (ApiVersionsResponseData) handler.handle(new RequestContext(header,
                            "EXTERNAL", new InetSocketAddress(0), KafkaPrincipal.ANONYMOUS),
                    new ApiVersionsRequestData().setClientSoftwareName("java").setClientSoftwareVersion("4.1.1"))
                    .get(5, TimeUnit.SECONDS);
            // as the client reads it: serialized at the request's version and parsed back
            ApiVersionsResponseData parsed = org.apache.kafka.common.requests.ApiVersionsResponse.parse(
                    org.apache.kafka.common.protocol.MessageUtil.toByteBufferAccessor(data, version), version).data();
            if (version < 3) {
                assertThat(parsed.finalizedFeaturesEpoch()).isEqualTo(-1L);
                assertThat(parsed.finalizedFeatures()).isEmpty();
                continue;
            }
            assertThat(parsed.finalizedFeaturesEpoch()).isGreaterThanOrEqualTo(0L);
            assertThat(parsed.finalizedFeatures().find("transaction.version").maxVersionLevel()).isEqualTo(level);
            ApiVersionsResponseData.SupportedFeatureKey supported = parsed.supportedFeatures()
                    .find("transaction.version");
            if (version == 3) {
                assertThat(supported).as("a range starting at 0 is left out below v4, as Kafka").isNull();
            } else {
                assertThat(supported.minVersion()).isEqualTo((short) 0);
                assertThat(supported.maxVersion()).isEqualTo((short) 2);
            }
        }
    }

    @Test
    void everyHandlerClassInTheApiPackageIsRegistered() throws IOException, URISyntaxException {
        Path dir = Path.of(ApiHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve(ApiHandler.class.getPackageName().replace('.', '/'));
        List<String> handlerClasses;
        try (Stream<Path> files = Files.list(dir)) {
            handlerClasses = files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith("Handler.class") && !n.contains("$") && !n.equals("ApiHandler.class"))
                    .map(n -> n.substring(0, n.length() - ".class".length())).sorted().toList();
        }
        assertThat(handlerClasses).hasSizeGreaterThanOrEqualTo(12);
        assertThat(REGISTRY.handlers().stream().map(h -> h.getClass().getSimpleName()).sorted().toList())
                .isEqualTo(handlerClasses);
    }

    @Test
    void twoHandlersForOneApiAreRejected() {
        BrokerServices broker = new FakeBrokerServices();
        assertThatThrownBy(() -> new ApiRegistry(List.of(new InitProducerIdHandler(broker),
                new MetadataHandler(broker, 1, (short) 1), new InitProducerIdHandler(broker))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("INIT_PRODUCER_ID");
    }

    @Test
    void versionsBeyondKafkaClientsAreRejected() {
        assertThatThrownBy(() -> new ApiRegistry(List.of(new FixedRangeHandler((short) 0, (short) 99))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DESCRIBE_CLUSTER");
        assertThatThrownBy(() -> new ApiRegistry(List.of(new FixedRangeHandler((short) -1, (short) 1))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest(name = "ApiVersions v{0}")
    @ValueSource(shorts = {5, 99, Short.MAX_VALUE, -1})
    void unsupportedApiVersionsGetsAV0ErrorAnswerListingOurRanges(short version) {
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(ApiKeys.API_VERSIONS.id)
                .setRequestApiVersion(version).setCorrelationId(4711).setClientId("future-client");
        ApiVersionsRequestData body = new ApiVersionsRequestData().setClientSoftwareName("java")
                .setClientSoftwareVersion("9.9");
        Decoded decoded = DECODER.decode(RequestUtils.serialize(header, (short) 2, body, (short) 4));

        assertThat(decoded).isInstanceOf(Decoded.Immediate.class);
        ByteBuffer frame = ((Decoded.Immediate) decoded).response().duplicate();
        assertThat(frame.getInt()).isEqualTo(frame.remaining());
        assertThat(ResponseHeader.parse(frame, (short) 0).correlationId()).isEqualTo(4711);
        ApiVersionsResponse response = ApiVersionsResponse.parse(new ByteBufferAccessor(frame), (short) 0);
        assertThat(frame.remaining()).isZero();
        assertThat(response.data().errorCode()).isEqualTo(Errors.UNSUPPORTED_VERSION.code()).isEqualTo((short) 35);
        assertAdvertisesExactlyTheRegistry(response.data());
    }

    @ParameterizedTest(name = "api key {0} v{1}")
    @CsvSource({"999, 0", "-1, 0", "0, 2", "0, 13", "1, 99", "1, 3", "3, -1", "19, 1"})
    void unknownApisAndUnsupportedVersionsAreFatal(short apiKey, short version) {
        ByteBuffer frame = ByteBuffer.allocate(64);
        frame.putShort(apiKey).putShort(version).putInt(12).putShort((short) 6).put("client".getBytes())
                .put(new byte[] {0, 0, 0, 0}).flip();

        Decoded decoded = DECODER.decode(frame);

        assertThat(decoded).isInstanceOf(Decoded.Fatal.class);
        assertThat(((Decoded.Fatal) decoded).reason()).isNotBlank();
    }

    private static void assertAdvertisesExactlyTheRegistry(ApiVersionsResponseData data) {
        Map<Short, ApiVersion> advertised = data.apiKeys().stream()
                .collect(Collectors.toMap(ApiVersion::apiKey, v -> v));
        assertThat(advertised).hasSize(REGISTRY.handlers().size());
        for (ApiVersion v : advertised.values()) {
            assertThat(ApiKeys.hasId(v.apiKey())).isTrue();
            ApiHandler<?> handler = REGISTRY.handler(ApiKeys.forId(v.apiKey()));
            assertThat(handler).as("handler for advertised key %d", v.apiKey()).isNotNull();
            assertThat(v.minVersion()).isEqualTo(handler.minVersion());
            assertThat(v.maxVersion()).isEqualTo(handler.maxVersion());
        }
        for (ApiHandler<?> h : REGISTRY.handlers()) {
            assertThat(advertised).containsKey(h.apiKey().id);
        }
    }

    /** A DescribeCluster handler with an arbitrary range, to probe the registry's range check. */
    private record FixedRangeHandler(short minVersion, short maxVersion) implements ApiHandler<ApiMessage> {
        @Override
        public ApiKeys apiKey() {
            return ApiKeys.DESCRIBE_CLUSTER;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage request) {
            return CompletableFuture.failedFuture(new UnsupportedOperationException());
        }
    }
}
