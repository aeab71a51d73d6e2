package io.fluxmq.kafka.broker;

import org.apache.kafka.clients.admin.AlterConfigOp.OpType;

/**
 * One requested config change: {@code SET} (AlterConfigs sends only these), {@code DELETE} (back to the default),
 * {@code APPEND} or {@code SUBTRACT} (list configs, IncrementalAlterConfigs). {@code value} may be null for DELETE.
 */
public record ConfigChange(String name, OpType op, String value) {}
