package io.fluxmq.kafka.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.security.ListenerSecurity;
import io.fluxmq.kafka.security.SaslMechanisms;
import io.fluxmq.kafka.security.ScramCredentials;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.Test;

/** The SASL exchange of a SASL_PLAINTEXT connection, on an embedded channel (PLAIN, users from the JAAS setting). */
class SaslAuthenticationHandlerTest {
    private static final SaslMechanisms MECHANISMS = ListenerSecurity.of("SASL_PLAINTEXT",
            SecurityProtocol.SASL_PLAINTEXT, Map.of("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256",
                    "listener.name.sasl_plaintext.plain.sasl.jaas.config",
                    "org.apache.kafka.common.security.plain.PlainLoginModule required user_bob=\"bob-secret\";",
                    "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required user_bob=\"bob-secret\";"))
            .sasl();

    /** What reaches the handler after the SASL one: frames and events. */
    private static final class Next extends ChannelInboundHandlerAdapter {
        final List<Object> frames = new ArrayList<>();
        final List<Object> events = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            frames.add(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
        }
    }

    private final Next next = new Next();
    private final EmbeddedChannel channel = new EmbeddedChannel(new SaslAuthenticationHandler(MECHANISMS,
            ScramCredentials.NONE, null), next);
    private int correlation;

    private RequestHeader send(ApiKeys key, short version, ApiMessage body) {
        RequestHeader header = new RequestHeader(key, version, "test", ++correlation);
        ByteBuffer bytes = RequestUtils.serialize(header.data(), header.headerVersion(), body, version);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        return header;
    }

    private AbstractResponse answer(RequestHeader header) {
        ByteBuf out = channel.readOutbound();
        assertThat(out).as("an answer to %s", header.apiKey()).isNotNull();
        ByteBuffer bytes = ByteBuffer.allocate(out.readableBytes());
        out.readBytes(bytes);
        out.release();
        bytes.flip();
        assertThat(bytes.getInt()).isEqualTo(bytes.remaining());
        return AbstractResponse.parseResponse(bytes, header);
    }

    private SaslHandshakeResponseData handshake(String mechanism) {
        RequestHeader h = send(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism(mechanism));
        return (SaslHandshakeResponseData) answer(h).data();
    }

    private SaslAuthenticateResponseData plain(String user, String password) {
        byte[] token = ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8);
        RequestHeader h = send(ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData().setAuthBytes(token));
        return (SaslAuthenticateResponseData) answer(h).data();
    }

    @Test
    void plainWithTheRightPasswordAuthenticatesAndStepsAside() {
        SaslHandshakeResponseData hs = handshake("PLAIN");
        assertThat(hs.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(hs.mechanisms()).containsExactly("PLAIN", "SCRAM-SHA-256");
        SaslAuthenticateResponseData auth = plain("bob", "bob-secret");
        assertThat(auth.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(next.events).containsExactly(new Authenticated(new KafkaPrincipal("User", "bob")));
        assertThat(channel.pipeline().get(SaslAuthenticationHandler.class)).isNull();
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void withConnectionsMaxReauthMsTheAnswerCarriesTheSessionLifetimeAndTheEventTheSession() {
        assertThat(handshake("PLAIN").errorCode()).isZero();
        assertThat(plain("bob", "bob-secret").sessionLifetimeMs()).as("off by default").isZero();

        SaslMechanisms reauth = ListenerSecurity.of("SASL_PLAINTEXT", SecurityProtocol.SASL_PLAINTEXT, Map.of(
                "sasl.enabled.mechanisms", "PLAIN", "listener.name.sasl_plaintext.plain.connections.max.reauth.ms",
                "2000", "listener.name.sasl_plaintext.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_bob=\"bob-secret\";")).sasl();
        Next after = new Next();
        EmbeddedChannel reauthenticating = new EmbeddedChannel(new SaslAuthenticationHandler(reauth,
                ScramCredentials.NONE, null), after);
        RequestHeader h = new RequestHeader(ApiKeys.SASL_HANDSHAKE, (short) 1, "test", 1);
        reauthenticating.writeInbound(Unpooled.wrappedBuffer(RequestUtils.serialize(h.data(), h.headerVersion(),
                new SaslHandshakeRequestData().setMechanism("PLAIN"), (short) 1)));
        ((ByteBuf) reauthenticating.readOutbound()).release();
        h = new RequestHeader(ApiKeys.SASL_AUTHENTICATE, (short) 2, "test", 2);
        reauthenticating.writeInbound(Unpooled.wrappedBuffer(RequestUtils.serialize(h.data(), h.headerVersion(),
                new SaslAuthenticateRequestData().setAuthBytes("\0bob\0bob-secret".getBytes(StandardCharsets.UTF_8)),
                (short) 2)));
        ByteBuf out = reauthenticating.readOutbound();
        ByteBuffer bytes = ByteBuffer.allocate(out.readableBytes());
        out.readBytes(bytes);
        out.release();
        bytes.flip();
        bytes.getInt();
        SaslAuthenticateResponseData auth = (SaslAuthenticateResponseData) AbstractResponse.parseResponse(bytes, h)
                .data();
        assertThat(auth.errorCode()).isZero();
        assertThat(auth.sessionLifetimeMs()).isEqualTo(2000);
        assertThat(after.events).singleElement().satisfies(e -> assertThat(((Authenticated) e).session()).isNotNull());
    }

    @Test
    void aWrongPasswordAnswersSaslAuthenticationFailedThenCloses() {
        handshake("PLAIN");
        SaslAuthenticateResponseData auth = plain("bob", "guess");
        assertThat(auth.errorCode()).isEqualTo(Errors.SASL_AUTHENTICATION_FAILED.code());
        assertThat(auth.errorMessage()).contains("Invalid username or password");
        channel.runPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        assertThat(next.events).isEmpty();
    }

    @Test
    void anUnknownMechanismIsRefusedWithTheEnabledOnes() {
        SaslHandshakeResponseData hs = handshake("GSSAPI");
        assertThat(hs.errorCode()).isEqualTo(Errors.UNSUPPORTED_SASL_MECHANISM.code());
        assertThat(hs.mechanisms()).containsExactly("PLAIN", "SCRAM-SHA-256");
        channel.runPendingTasks();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void onlyApiVersionsPassesBeforeAuthentication() {
        send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData().setClientSoftwareName("t")
                .setClientSoftwareVersion("1"));
        assertThat(next.frames).hasSize(1);
        ((ByteBuf) next.frames.get(0)).release();
        send(ApiKeys.METADATA, (short) 12, new MetadataRequestData());
        assertThat(next.frames).hasSize(1);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void saslAuthenticateBeforeTheHandshakeCloses() {
        send(ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData().setAuthBytes(new byte[1]));
        assertThat(channel.isOpen()).isFalse();
    }
}
