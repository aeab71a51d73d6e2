package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.auth.AclAuthorizer;
import io.fluxmq.kafka.auth.AuthorizerConfig;
import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Set;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData.ComponentData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/** DescribeClientQuotas without quotas: valid filters match nothing; invalid ones get Kafka's errors. */
class DescribeClientQuotasHandlerTest {
    private static DescribeClientQuotasResponseData describe(FakeBrokerServices broker, ComponentData... components) {
        RequestContext context = new RequestContext(new RequestHeader(ApiKeys.DESCRIBE_CLIENT_QUOTAS, (short) 1,
                "test", 1), "EXTERNAL", new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
        return (DescribeClientQuotasResponseData) new DescribeClientQuotasHandler(broker).handle(context,
                new DescribeClientQuotasRequestData().setComponents(Arrays.asList(components))).join();
    }

    private static ComponentData component(String type, int matchType, String match) {
        return new ComponentData().setEntityType(type).setMatchType((byte) matchType).setMatch(match);
    }

    @Test
    void validFiltersMatchNoEntityAndInvalidOnesGetKafkasErrors() {
        FakeBrokerServices broker = new FakeBrokerServices();
        DescribeClientQuotasResponseData none = describe(broker, component("user", 2, null));
        assertThat(none.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(none.entries()).isEmpty();
        assertThat(describe(broker).entries()).isEmpty();

        assertThat(describe(broker, component("user", 0, null)).errorMessage())
                .isEqualTo("Request specified MATCH_TYPE_EXACT, but set match string to null.");
        assertThat(describe(broker, component("user", 0, "a"), component("user", 1, null)).errorMessage())
                .isEqualTo("Entity type user cannot appear more than once in the filter.");
        assertThat(describe(broker, component("ip", 1, null), component("client-id", 2, null)).errorCode())
                .isEqualTo(Errors.INVALID_REQUEST.code());
        DescribeClientQuotasResponseData unknown = describe(broker, component("group", 2, null));
        assertThat(unknown.errorCode()).isEqualTo(Errors.UNSUPPORTED_VERSION.code());
        assertThat(unknown.entries()).isNull();
    }

    @Test
    void withAnAuthorizerItNeedsDescribeConfigsOnTheCluster() {
        FakeBrokerServices broker = new FakeBrokerServices(new AclAuthorizer(new AuthorizerConfig(true, Set.of(),
                false)));
        assertThat(describe(broker, component("user", 2, null)).errorCode())
                .isEqualTo(Errors.CLUSTER_AUTHORIZATION_FAILED.code());
    }
}
