"""A grpcio client for smartcity.node.v1.NodeService, driven by the .NET interop tests.

Runs one scenario against a node and prints its outcome as one JSON object on stdout. The stubs are generated
by the test with `python3 -m grpc_tools.protoc` into the directory given by --stubs: from contracts/proto, and from
the gRPC project's own health and reflection .proto files (npm packages grpc-health-check and @grpc/reflection).

    node_client.py --stubs DIR --target HOST:PORT
                   --scenario unary|deadline|oversized|unimplemented|cancel|health|reflection [--service NAME]
    node_client.py ... --scenario submit --transaction HEX [--wait]      SubmitTransaction
    node_client.py ... --scenario receipt --transaction-id 0x...          GetReceipt (inclusion)
    node_client.py ... --scenario watch-blocks --from-height N --count K  WatchBlocks
"""

import argparse
import json
import sys

import grpc


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stubs", required=True, help="directory holding the generated smartcity/node/v1 modules")
    parser.add_argument("--target", required=True, help="HOST:PORT of the node")
    parser.add_argument("--scenario", required=True,
                        choices=["unary", "deadline", "oversized", "unimplemented", "cancel", "health", "reflection",
                                 "submit", "receipt", "watch-blocks"])
    parser.add_argument("--watch-id", default="", help="label of the Watch stream (deadline, cancel)")
    parser.add_argument("--size", type=int, default=0, help="bytes of echo text to send (oversized)")
    parser.add_argument("--service", default="", help="service name to ask grpc.health.v1.Health about (health)")
    parser.add_argument("--transaction", default="", help="hex of a transaction's canonical bytes (submit)")
    parser.add_argument("--wait", action="store_true", help="wait until the transaction is committed (submit)")
    parser.add_argument("--transaction-id", default="", help="0x id of a committed transaction (receipt)")
    parser.add_argument("--from-height", type=int, default=0, help="first block height (watch-blocks)")
    parser.add_argument("--count", type=int, default=1, help="blocks to read (watch-blocks)")
    return parser.parse_args()


def metadata_dict(metadata):
    """Metadata as {key: text or hex of the bytes for -bin keys}."""
    return {m.key: (m.value.hex() if isinstance(m.value, bytes) else m.value) for m in metadata or ()}


def error_result(error):
    result = {"code": error.code().name, "details": error.details()}
    trailers = metadata_dict(error.trailing_metadata())
    if "x-rejection-code" in trailers:
        result["rejection_code"] = trailers["x-rejection-code"]
    return result


def unary(stub, pb, args):
    response, call = stub.Status.with_call(
        pb.StatusRequest(echo="hello from python"),
        metadata=[("x-request-id", "python-42"), ("x-trace-bin", bytes([0, 1, 0xFE, 0xFF]))],
        timeout=10)
    return {
        "code": call.code().name,
        "version": response.version,
        "region": response.region,
        "node_id": response.node_id,
        "echo": response.echo,
        "uptime_ms": response.uptime_ms,
        "headers": metadata_dict(call.initial_metadata()),
        "trailers": metadata_dict(call.trailing_metadata()),
    }


def deadline(stub, pb, args):
    # Connect first, so that the short deadline is spent on the stream and not on setting up the channel.
    stub.Health(pb.HealthRequest(), timeout=10)
    received = 0
    try:
        # 2 s leaves room for the first heartbeat on a machine loaded by parallel test runs; Watch would run for ever.
        for _ in stub.Watch(pb.WatchRequest(interval_ms=50, watch_id=args.watch_id), timeout=2):
            received += 1
    except grpc.RpcError as error:
        return dict(error_result(error), received=received)
    return {"code": "OK", "received": received}


def oversized(stub, pb, args):
    try:
        stub.Status(pb.StatusRequest(echo="x" * args.size), timeout=10)
    except grpc.RpcError as error:
        return error_result(error)
    return {"code": "OK"}


def unimplemented(stub, pb, args, channel):
    missing = channel.unary_unary("/smartcity.node.v1.NodeService/Missing",
                                  request_serializer=pb.StatusRequest.SerializeToString,
                                  response_deserializer=pb.StatusResponse.FromString)
    try:
        missing(pb.StatusRequest(), timeout=10)
    except grpc.RpcError as error:
        return error_result(error)
    return {"code": "OK"}


def cancel(stub, pb, args):
    stream = stub.Watch(pb.WatchRequest(interval_ms=20, watch_id=args.watch_id), timeout=30)
    received = 0
    try:
        for _ in stream:
            received += 1
            if received == 3:
                stream.cancel()
    except grpc.RpcError as error:
        return dict(error_result(error), received=received)
    return {"code": "OK", "received": received}


def health(channel, args):
    """grpc.health.v1.Health/Check through stubs generated from the standard health.proto."""
    from health.v1 import health_pb2, health_pb2_grpc
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        response = stub.Check(health_pb2.HealthCheckRequest(service=args.service), timeout=10)
    except grpc.RpcError as error:
        return error_result(error)
    return {"code": "OK", "status": health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)}


def reflection(channel, args):
    """Server reflection (grpc.reflection.v1) with no .proto of the node: list the services, fetch the file that
    defines NodeService, build its messages from that descriptor alone and call Status with them."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from reflection.v1 import reflection_pb2, reflection_pb2_grpc
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    requests = [reflection_pb2.ServerReflectionRequest(list_services=""),
                reflection_pb2.ServerReflectionRequest(file_containing_symbol="smartcity.node.v1.NodeService")]
    responses = list(stub.ServerReflectionInfo(iter(requests), timeout=10))
    services = sorted(s.name for s in responses[0].list_services_response.service)

    pool = descriptor_pool.DescriptorPool()
    files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
             for raw in responses[1].file_descriptor_response.file_descriptor_proto]
    for file in files:
        pool.Add(file)
    service = pool.FindServiceByName("smartcity.node.v1.NodeService")
    status = service.FindMethodByName("Status")
    def message_class(descriptor):
        # GetMessageClass is protobuf >= 4.21; Debian 12's python3-protobuf (3.21) has MessageFactory.GetPrototype.
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)

    request_class = message_class(status.input_type)
    response_class = message_class(status.output_type)
    call = channel.unary_unary("/smartcity.node.v1.NodeService/Status",
                               request_serializer=request_class.SerializeToString,
                               response_deserializer=response_class.FromString)
    reply = call(request_class(echo="found by reflection"), timeout=10)
    return {
        "code": "OK",
        "services": services,
        "files": [f.name for f in files],
        "methods": [m.name for m in service.methods],
        "echo": reply.echo,
        "region": reply.region,
    }


def submit(stub, pb, args):
    """SubmitTransaction with signed canonical bytes; a refusal comes back as a status code and a rejection code."""
    request = pb.SubmitTransactionRequest(transaction=bytes.fromhex(args.transaction), wait_for_commit=args.wait)
    try:
        response = stub.SubmitTransaction(request, timeout=30)
    except grpc.RpcError as error:
        return error_result(error)
    return {"code": "OK", "transaction_id": response.transaction_id,
            "status": pb.TransactionStatus.Name(response.status), "height": response.height}


def receipt(stub, pb, args):
    """GetReceipt for a committed transaction: the receipt JSON a bank verifies offline."""
    try:
        response = stub.GetReceipt(pb.GetReceiptRequest(transaction_id=args.transaction_id), timeout=30)
    except grpc.RpcError as error:
        return error_result(error)
    return {"code": "OK", "receipt_json": response.receipt_json, "height": response.height}


def watch_blocks(stub, pb, args):
    """WatchBlocks from a height: the first blocks' heights, hashes and certificates."""
    blocks = []
    stream = stub.WatchBlocks(pb.WatchBlocksRequest(from_height=args.from_height), timeout=30)
    try:
        for block in stream:
            blocks.append({"height": block.height, "block_hash": block.block_hash, "header": block.header.hex(),
                           "certificate": block.certificate.hex(), "transaction_ids": list(block.transaction_ids)})
            if len(blocks) == args.count:
                stream.cancel()
                break
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.CANCELLED:
            return dict(error_result(error), blocks=blocks)
    return {"code": "OK", "blocks": blocks}


def main():
    args = parse_args()
    sys.path.insert(0, args.stubs)
    from smartcity.node.v1 import node_pb2 as pb
    from smartcity.node.v1 import node_pb2_grpc as pb_grpc

    with grpc.insecure_channel(args.target) as channel:
        stub = pb_grpc.NodeServiceStub(channel)
        scenarios = {"unary": unary, "deadline": deadline, "oversized": oversized, "cancel": cancel,
                     "unimplemented": lambda s, p, a: unimplemented(s, p, a, channel),
                     "health": lambda s, p, a: health(channel, a),
                     "reflection": lambda s, p, a: reflection(channel, a),
                     "submit": submit, "receipt": receipt, "watch-blocks": watch_blocks}
        result = scenarios[args.scenario](stub, pb, args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
