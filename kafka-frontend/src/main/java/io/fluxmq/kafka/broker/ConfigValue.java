package io.fluxmq.kafka.broker;

import java.util.List;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * One config of a topic or broker as DescribeConfigs reports it: its effective value, where that value comes from,
 * and its synonyms in precedence order (the entry's own source first, then the broker setting and the built-in
 * default it would fall back to), as Kafka lists them.
 */
public record ConfigValue(String name, String value, ConfigSource source, boolean readOnly, List<Synonym> synonyms,
                          ConfigType type, String documentation) {
    public ConfigValue {
        synonyms = List.copyOf(synonyms);
    }

    /** A setting that provides (or would provide) the value, with its source. */
    public record Synonym(String name, String value, ConfigSource source) {}
}
