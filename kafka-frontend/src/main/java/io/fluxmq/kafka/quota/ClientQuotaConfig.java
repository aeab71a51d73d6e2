package io.fluxmq.kafka.quota;

/**
 * The windows over which client quotas are measured, with Kafka's setting names and defaults: a quota entity's rate is
 * the sum of its last {@code windowNum} samples of {@code windowSizeSeconds} each over the time they cover (at least
 * {@code windowNum - 1} windows, as Kafka's {@code Rate}).
 *
 * @param windowNum         {@value #WINDOW_NUM_KEY}: samples kept per quota entity (default 11)
 * @param windowSizeSeconds {@value #WINDOW_SIZE_SECONDS_KEY}: the time span of each sample (default 1)
 */
public record ClientQuotaConfig(int windowNum, int windowSizeSeconds) {
    public static final String WINDOW_NUM_KEY = "quota.window.num";
    public static final int WINDOW_NUM_DEFAULT = 11;
    public static final String WINDOW_SIZE_SECONDS_KEY = "quota.window.size.seconds";
    public static final int WINDOW_SIZE_SECONDS_DEFAULT = 1;

    public static final ClientQuotaConfig DEFAULTS = new ClientQuotaConfig(WINDOW_NUM_DEFAULT,
            WINDOW_SIZE_SECONDS_DEFAULT);

    public ClientQuotaConfig {
        if (windowNum < 1 || windowSizeSeconds < 1) { // Kafka's validators: at least 1 each
            throw new IllegalArgumentException(WINDOW_NUM_KEY + " and " + WINDOW_SIZE_SECONDS_KEY
                    + " must be at least 1");
        }
    }
}
