package io.fluxmq.kafka.server;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Raises the {@code throttle_time_ms} of any response message that has one (as Kafka's
 * {@code AbstractResponse.maybeSetThrottleTimeMs}, which each response class implements by hand): a request quota
 * applies to every API, and the generated message classes share no interface for the field.
 */
final class ThrottleTimes {

    private record Accessors(MethodHandle get, MethodHandle set) {
    }

    private static final Accessors NONE = new Accessors(null, null);

    private static final ClassValue<Accessors> ACCESSORS = new ClassValue<>() {
        @Override
        protected Accessors computeValue(Class<?> type) {
            try {
                MethodHandles.Lookup lookup = MethodHandles.publicLookup();
                return new Accessors(lookup.findVirtual(type, "throttleTimeMs", MethodType.methodType(int.class)),
                        lookup.findVirtual(type, "setThrottleTimeMs", MethodType.methodType(type, int.class)));
            } catch (NoSuchMethodException | IllegalAccessException e) {
                return NONE; // a response without the field (SaslHandshake, ...): the connection is still muted
            }
        }
    };

    private ThrottleTimes() {
    }

    /** Sets the message's throttle time to {@code throttleMs} unless it already says more; false if it has none. */
    static boolean raise(ApiMessage response, int throttleMs) {
        Accessors accessors = ACCESSORS.get(response.getClass());
        if (accessors == NONE) {
            return false;
        }
        try {
            int current = (int) accessors.get().invoke(response);
            if (throttleMs > current) {
                accessors.set().invoke(response, throttleMs);
            }
            return true;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot set the throttle time of " + response.getClass().getSimpleName(), e);
        }
    }
}
