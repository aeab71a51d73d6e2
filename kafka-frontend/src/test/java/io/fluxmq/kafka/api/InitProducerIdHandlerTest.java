package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/** InitProducerId without a transactional id answers as Kafka's broker does (FakeBrokerServices hands out id 4242). */
class InitProducerIdHandlerTest {
    private final InitProducerIdHandler handler = new InitProducerIdHandler(new FakeBrokerServices());

    private InitProducerIdResponseData call(InitProducerIdRequestData request) {
        RequestContext context = new RequestContext(new RequestHeader(ApiKeys.INIT_PRODUCER_ID, (short) 5, "test", 1),
                "EXTERNAL", new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
        return (InitProducerIdResponseData) handler.handle(context, request).join();
    }

    @Test
    void aNewProducerGetsAFreshIdAtEpochZero() {
        InitProducerIdResponseData response = call(new InitProducerIdRequestData().setTransactionalId(null));
        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.producerId()).isEqualTo(4242L);
        assertThat(response.producerEpoch()).isZero();
    }

    @Test
    void aRequestNamingAnotherProducersIdCannotBumpItsEpoch() {
        InitProducerIdResponseData response = call(new InitProducerIdRequestData().setTransactionalId(null)
                .setProducerId(17).setProducerEpoch((short) 3));
        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.producerId()).as("a fresh id, never (17, 4): that would fence producer 17")
                .isEqualTo(4242L);
        assertThat(response.producerEpoch()).isZero();
    }

    @Test
    void anIdWithoutAnEpochOrAnEpochWithoutAnIdIsAnInvalidRequest() {
        assertThat(call(new InitProducerIdRequestData().setTransactionalId(null).setProducerId(17)).errorCode())
                .isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(call(new InitProducerIdRequestData().setTransactionalId(null).setProducerEpoch((short) 2))
                .errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
    }

    @Test
    void transactionalIdsAreRefused() {
        assertThat(call(new InitProducerIdRequestData().setTransactionalId("tx")).errorCode())
                .isEqualTo(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
    }
}
