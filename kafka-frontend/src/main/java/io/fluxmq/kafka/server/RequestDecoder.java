package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.ApiRegistry;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * Turns one frame (without its length prefix) into a {@link Decoded} result. Stateless and thread-safe.
 *
 * <p>As Kafka does, an ApiVersions request of a version we do not serve is answered with a v0 body carrying
 * {@code UNSUPPORTED_VERSION} and our ranges; any other undecodable frame, unknown API key or unsupported version is
 * a {@link Decoded.Fatal} and the connection is closed.
 */
public final class RequestDecoder {
    private final ApiRegistry registry;

    public RequestDecoder(ApiRegistry registry) {
        this.registry = registry;
    }

    /** The outcome of decoding a frame. */
    public sealed interface Decoded {
        record Request(KafkaRequest request) implements Decoded {}

        /** A response to send without dispatching (ApiVersions of an unsupported version). */
        record Immediate(ByteBuffer response) implements Decoded {}

        record Fatal(String reason) implements Decoded {}
    }

    public Decoded decode(ByteBuffer frame) {
        if (frame.remaining() < 8) {
            return new Decoded.Fatal("frame of " + frame.remaining() + " bytes is too short for a request header");
        }
        short apiKeyId = frame.getShort(frame.position());
        short version = frame.getShort(frame.position() + 2);
        int correlationId = frame.getInt(frame.position() + 4);
        if (!ApiKeys.hasId(apiKeyId)) {
            return new Decoded.Fatal("unknown API key " + apiKeyId);
        }
        ApiKeys apiKey = ApiKeys.forId(apiKeyId);
        if (!registry.supports(apiKey, version)) {
            if (apiKey == ApiKeys.API_VERSIONS) {
                ApiVersionsResponseData body = ApiVersionsSupport.response(registry, Errors.UNSUPPORTED_VERSION);
                return new Decoded.Immediate(ResponseEncoder.encode(apiKey, (short) 0, correlationId, body));
            }
            return new Decoded.Fatal("unsupported version " + version + " of " + apiKey);
        }
        try {
            RequestHeader header = RequestHeader.parse(frame);
            ApiMessage body = ApiMessageType.fromApiKey(apiKeyId).newRequest();
            body.read(new ByteBufferAccessor(frame), version);
            if (frame.hasRemaining()) {
                return new Decoded.Fatal(frame.remaining() + " bytes left after the " + apiKey + " v" + version
                        + " body");
            }
            return new Decoded.Request(new KafkaRequest(header, body, frame));
        } catch (InvalidRequestException e) {
            return new Decoded.Fatal(e.getMessage());
        } catch (RuntimeException e) {
            return new Decoded.Fatal("cannot parse " + apiKey + " v" + version + ": " + e);
        }
    }
}
