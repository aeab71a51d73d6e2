package io.fluxmq.kafka.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import javax.security.auth.x500.X500Principal;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;
import org.junit.jupiter.api.Test;

/** The principal of a client certificate, as Kafka's default principal builder makes it. */
class SslPrincipalMappingTest {
    private static final X500Principal CLIENT = new X500Principal("CN=app1, OU=clients, O=FluxMQ, C=DE");

    private static KafkaPrincipal map(String rules) {
        return SslEngines.principal(SslPrincipalMapper.fromRules(rules), CLIENT);
    }

    @Test
    void defaultIsTheWholeDistinguishedNameInRfc2253Form() {
        assertThat(map("DEFAULT")).isEqualTo(new KafkaPrincipal("User", "CN=app1,OU=clients,O=FluxMQ,C=DE"));
    }

    @Test
    void rulesAreKafkasRuleSyntaxTriedInOrder() {
        assertThat(map("RULE:^CN=(.*?),OU=clients,.*$/$1/,DEFAULT")).isEqualTo(new KafkaPrincipal("User", "app1"));
        assertThat(map("RULE:^CN=(.*?),OU=(.*?),.*$/$2-$1/U")).isEqualTo(new KafkaPrincipal("User", "CLIENTS-APP1"));
        assertThat(map("RULE:^CN=(.*?),OU=admins,.*$/$1/,DEFAULT"))
                .as("a rule that does not match falls through to DEFAULT")
                .isEqualTo(new KafkaPrincipal("User", "CN=app1,OU=clients,O=FluxMQ,C=DE"));
    }

    @Test
    void badRulesAreRefusedAsKafkaConfigErrors() {
        assertThatThrownBy(() -> new AbstractConfig(SecurityConfigs.DEF,
                Map.of(SecurityConfigs.PRINCIPAL_MAPPING_RULES, "RULE:no-slashes"), false))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("ssl.principal.mapping.rules");
    }

    @Test
    void listenerOverridesAndSecurityKeysAreRecognised() {
        assertThat(SecurityConfigs.isSecurityKey("ssl.keystore.location")).isTrue();
        assertThat(SecurityConfigs.isSecurityKey("listener.name.external.ssl.client.auth")).isTrue();
        assertThat(SecurityConfigs.isSecurityKey("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config")).isTrue();
        assertThat(SecurityConfigs.isSecurityKey("listener.name.sasl_ssl.gssapi.sasl.jaas.config")).isFalse();
        assertThat(SecurityConfigs.isSecurityKey("ssl.keystore.locaton")).isFalse();
        assertThat(SecurityConfigs.jaasKey("SASL_SSL", "SCRAM-SHA-512"))
                .isEqualTo("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config");
    }
}
