"""A grpcio client for smartcity.node.v1.NodeService, driven by the .NET interop tests.

Runs one scenario against a node and prints its outcome as one JSON object on stdout. The stubs are generated
by the test from contracts/proto with `python3 -m grpc_tools.protoc` into the directory given by --stubs.

    node_client.py --stubs DIR --target HOST:PORT --scenario unary|deadline|oversized|unimplemented|cancel
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
                        choices=["unary", "deadline", "oversized", "unimplemented", "cancel"])
    parser.add_argument("--watch-id", default="", help="label of the Watch stream (deadline, cancel)")
    parser.add_argument("--size", type=int, default=0, help="bytes of echo text to send (oversized)")
    return parser.parse_args()


def metadata_dict(metadata):
    """Metadata as {key: text or hex of the bytes for -bin keys}."""
    return {m.key: (m.value.hex() if isinstance(m.value, bytes) else m.value) for m in metadata or ()}


def error_result(error):
    return {"code": error.code().name, "details": error.details()}


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
        for _ in stub.Watch(pb.WatchRequest(interval_ms=50, watch_id=args.watch_id), timeout=0.5):
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


def main():
    args = parse_args()
    sys.path.insert(0, args.stubs)
    from smartcity.node.v1 import node_pb2 as pb
    from smartcity.node.v1 import node_pb2_grpc as pb_grpc

    with grpc.insecure_channel(args.target) as channel:
        stub = pb_grpc.NodeServiceStub(channel)
        scenarios = {"unary": unary, "deadline": deadline, "oversized": oversized, "cancel": cancel,
                     "unimplemented": lambda s, p, a: unimplemented(s, p, a, channel)}
        result = scenarios[args.scenario](stub, pb, args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
