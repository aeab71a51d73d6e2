package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import io.fluxmq.kafka.txn.TxnMetadata;
import io.fluxmq.kafka.txn.TxnState;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * ListTransactions v0–2 (Kafka's {@code handleListTransactionsRequest} and {@code listTransactionStates}): the
 * transactional ids this node coordinates, each with its producer id and Kafka's state name; the Admin client asks
 * every broker and merges. Filters, all of which must match: states (names Kafka does not know come back in
 * {@code unknown_state_filters}), producer ids, v1's duration (only transactions whose start is more than
 * {@code duration_filter} ms ago; an id without a start time, as in Kafka, always passes) and v2's transactional id
 * regular expression (whole-id match; an invalid one is INVALID_REGULAR_EXPRESSION). Ids the caller may not DESCRIBE
 * are left out; COORDINATOR_LOAD_IN_PROGRESS while a state partition is loading.
 */
public final class ListTransactionsHandler implements ApiHandler<ListTransactionsRequestData> {
    private final BrokerServices broker;
    private final TxnCoordinator coordinator;

    public ListTransactionsHandler(BrokerServices broker, TxnCoordinator coordinator) {
        this.broker = broker;
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LIST_TRANSACTIONS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListTransactionsRequestData request) {
        ListTransactionsResponseData response = new ListTransactionsResponseData();
        Pattern pattern = null;
        String regex = request.transactionalIdPattern();
        if (regex != null && !regex.isEmpty()) {
            try {
                pattern = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                return done(response.setErrorCode(Errors.INVALID_REGULAR_EXPRESSION.code()));
            }
        }
        Set<TxnState> states = EnumSet.noneOf(TxnState.class);
        for (String name : request.stateFilters()) {
            TxnState.ofKafkaName(name).ifPresent(states::add);
            if (!TxnState.isKafkaName(name)) {
                response.unknownStateFilters().add(name);
            }
        }
        Set<Long> producerIds = new HashSet<>(request.producerIdFilters());
        TxnCoordinator.Listing listing = coordinator.list();
        if (listing.error() != Errors.NONE) {
            return done(response.setErrorCode(listing.error().code()));
        }
        long now = coordinator.now();
        Authorization auth = broker.authorization();
        for (TxnMetadata m : listing.transactions()) {
            if (!producerIds.isEmpty() && !producerIds.contains(m.producerId())
                    || !request.stateFilters().isEmpty() && !states.contains(m.state())
                    || request.durationFilter() >= 0 && now - m.txnStartMs() <= request.durationFilter()
                    || pattern != null && !pattern.matcher(m.transactionalId()).matches()
                    || auth.denies(context, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID,
                            m.transactionalId())) {
                continue;
            }
            response.transactionStates().add(new ListTransactionsResponseData.TransactionState()
                    .setTransactionalId(m.transactionalId()).setProducerId(m.producerId())
                    .setTransactionState(m.state().kafkaName()));
        }
        return done(response);
    }

    private static CompletableFuture<ApiMessage> done(ApiMessage response) {
        return CompletableFuture.completedFuture(response);
    }
}
