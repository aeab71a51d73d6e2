package io.fluxmq.raftcore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The replication throttle's bucket: a second's worth at most, appends charged whole, refilled at the rate. */
class ReplicationThrottleTest {
    @Test
    void holdsBackUntilTheRateRefilledWhatAnAppendOverdrew() {
        ReplicationThrottle t = new ReplicationThrottle(1000, 0);
        assertThat(t.mayAppend(0)).as("starts with a second's worth").isTrue();
        t.charge(2500, 0); // one append may overdraw: 1000 - 2500 = -1500
        assertThat(t.mayAppend(0)).isFalse();
        assertThat(t.mayAppend(1500)).as("1.5 s refilled 1500: at zero, still nothing").isFalse();
        assertThat(t.mayAppend(1501)).isTrue();
        t.charge(1, 1501);
        assertThat(t.mayAppend(1501)).isFalse();
    }

    @Test
    void neverHoldsMoreThanASecondsWorth() {
        ReplicationThrottle t = new ReplicationThrottle(1000, 0);
        t.charge(1000, 60_000); // idle for a minute: still only 1000 in the bucket
        assertThat(t.mayAppend(60_000)).isFalse();
        assertThat(t.mayAppend(60_002)).isTrue();
    }

    @Test
    void unlimitedNeverHoldsBackAndRatesBelowOneAreRefused() {
        ReplicationThrottle.UNLIMITED.charge(Long.MAX_VALUE, 0);
        assertThat(ReplicationThrottle.UNLIMITED.mayAppend(0)).isTrue();
        ReplicationThrottle huge = new ReplicationThrottle(Long.MAX_VALUE - 1, 0);
        huge.charge(Long.MAX_VALUE - 1, 0);
        assertThat(huge.mayAppend(1)).as("no overflow when refilling a huge rate").isTrue();
        assertThatThrownBy(() -> new ReplicationThrottle(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aChangedRateAppliesFromNowOn() {
        ReplicationThrottle t = new ReplicationThrottle(Long.MAX_VALUE, 0);
        t.charge(1_000_000, 0);
        assertThat(t.mayAppend(0)).as("unlimited").isTrue();
        t.rate(1000, 10);
        t.charge(1000, 10);
        assertThat(t.mayAppend(10)).as("a second's worth of the new rate spent").isFalse();
        assertThat(t.mayAppend(510)).as("refilled at the new rate").isTrue();
        t.rate(Long.MAX_VALUE, 520);
        t.charge(1_000_000, 520);
        assertThat(t.mayAppend(520)).as("unlimited again").isTrue();
        assertThatThrownBy(() -> ReplicationThrottle.UNLIMITED.rate(5, 0)).isInstanceOf(IllegalStateException.class);
    }
}
