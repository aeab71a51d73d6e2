package io.fluxmq.node;

import io.fluxmq.kafka.auth.Authorization;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import javax.net.ssl.SSLSession;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authorizes every call of the gRPC control service with Kafka's ACLs on the CLUSTER resource, the caller being the
 * principal of its cluster certificate ({@link ClusterTls#principal}), as Kafka authorizes its inter-broker and
 * administrative requests: what nodes call on each other (Register, Heartbeat, AllocateNodeId, WriteTxnMarker,
 * AddPartitionsToTxn)
 * needs {@code ClusterAction}, reading state (DescribeNodes, RaftStatus) {@code Describe}, changing it
 * (SetNodeMembership, TransferLeader, TakeSnapshot) {@code Alter}; super users ({@code super.users}) may do
 * everything. So an operator's certificate can be limited to what its principal was granted, and cannot act as a node.
 * A method not listed here is refused. Installed only when node-to-node TLS and an authorizer are both on.
 * Thread-safe.
 */
final class ControlAuthorizer implements ServerInterceptor {
    private static final Logger LOGGER = LoggerFactory.getLogger(ControlAuthorizer.class);

    /** The operation on the cluster each control method needs, by its bare gRPC method name. */
    static final Map<String, AclOperation> OPERATIONS = Map.of(
            "Register", AclOperation.CLUSTER_ACTION,
            "Heartbeat", AclOperation.CLUSTER_ACTION,
            "AllocateNodeId", AclOperation.CLUSTER_ACTION,
            "WriteTxnMarker", AclOperation.CLUSTER_ACTION,
            "AddPartitionsToTxn", AclOperation.CLUSTER_ACTION,
            "DescribeNodes", AclOperation.DESCRIBE,
            "RaftStatus", AclOperation.DESCRIBE,
            "SetNodeMembership", AclOperation.ALTER,
            "TransferLeader", AclOperation.ALTER,
            "TakeSnapshot", AclOperation.ALTER);

    private final ClusterTls tls;
    private final Authorization authorization;

    ControlAuthorizer(ClusterTls tls, Authorization authorization) {
        this.tls = tls;
        this.authorization = authorization;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getBareMethodName();
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        KafkaPrincipal principal = session == null ? KafkaPrincipal.ANONYMOUS : tls.principal(session);
        String host = host(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        AclOperation operation = OPERATIONS.get(method);
        if (operation != null && authorization.allowed(principal, host, operation, ResourceType.CLUSTER,
                Authorization.CLUSTER_NAME)) {
            return next.startCall(call, headers);
        }
        String why = operation == null ? "the control method " + method + " is not authorized for anyone"
                : principal + " (from " + host + ") is not authorized to " + name(operation) + " the cluster, which "
                        + method + " needs; grant it with kafka-acls --add --allow-principal '" + principal
                        + "' --operation " + name(operation) + " --cluster (or list the principal in super.users)";
        LOGGER.warn("Refused control call: {}", why);
        call.close(Status.PERMISSION_DENIED.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() {
        };
    }

    /** Kafka's spelling in kafka-acls: ClusterAction, Describe, Alter. */
    private static String name(AclOperation operation) {
        return switch (operation) {
            case CLUSTER_ACTION -> "ClusterAction";
            case DESCRIBE -> "Describe";
            case ALTER -> "Alter";
            default -> operation.name();
        };
    }

    private static String host(SocketAddress address) {
        return address instanceof InetSocketAddress a && a.getAddress() != null ? a.getAddress().getHostAddress()
                : "";
    }
}
