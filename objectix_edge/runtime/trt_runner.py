"""TensorRT backend: deserializes an engine (after checking its sidecar) and runs it with execute_async_v3.

I/O lives on the GPU: torch CUDA tensors when torch has CUDA (Tensor feeds on the device stay there,
no host round trip), else cuda-python device buffers. Inputs set their shape per call (dynamic batch
within the engine's optimization profile); outputs are allocated for the resulting shapes and reused
while the shapes stay the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from objectix_edge.enums import Backend
from objectix_edge.errors import ArtifactError, InputError, MissingDependencyError
from objectix_edge.runtime.base import Runner, RunnerCapabilities, TensorInfo
from objectix_edge.runtime.trt_sidecar import REBUILD, current_gpu, import_tensorrt, read_sidecar

if TYPE_CHECKING:
    import tensorrt as trt

ADDRESS_ALIGNMENT = 256  # bytes: TensorRT's requirement for the tensor addresses it is given


class TrtRunner(Runner):
    """Runs a ``.engine`` built by ``objx-edge build-engine`` on CUDA device ``device``.

    Capabilities: with torch I/O, takes device tensors and executes on a stream of its own (``cuda_stream``,
    ``enqueue``); with cuda-python I/O, numpy feeds only and no stream for callers.
    """

    backend = Backend.TENSORRT

    def __init__(self, path: Path | str, device: str = "cuda:0") -> None:
        import_tensorrt()  # one-line MissingDependencyError when absent
        import tensorrt as trt

        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: engine not found; build one with objx-edge build-engine")
        self._index = int(device.split(":")[1]) if ":" in device else 0
        sidecar = read_sidecar(path)
        sidecar.check_runtime(path, str(trt.__version__), current_gpu(self._index))
        super().__init__(path, sidecar.spec)
        self.precision = sidecar.precision
        self.sidecar = sidecar
        # The engine, its context and the buffers must live on one device: make it current first.
        self._io = _TorchIO(self._index) if _torch_has_cuda() else _CudaPythonIO(self._index)
        self._io.activate()
        self._logger: trt.ILogger = trt.Logger(trt.Logger.WARNING)
        self._runtime: trt.Runtime = trt.Runtime(self._logger)
        engine: trt.ICudaEngine | None = self._runtime.deserialize_cuda_engine(path.read_bytes())
        if engine is None:
            raise ArtifactError(f"{path}: TensorRT cannot deserialize it (corrupt or built elsewhere); {REBUILD}")
        self._engine: trt.ICudaEngine = engine
        self._context: trt.IExecutionContext = engine.create_execution_context()
        self._inputs: list[TensorInfo] = []
        self._outputs: list[TensorInfo] = []
        for i in range(engine.num_io_tensors):
            name = engine.get_tensor_name(i)
            info = TensorInfo(
                name,
                tuple(int(d) for d in engine.get_tensor_shape(name)),
                np.dtype(trt.nptype(engine.get_tensor_dtype(name))),
            )
            is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            (self._inputs if is_input else self._outputs).append(info)

    @property
    def device(self) -> str:
        return f"cuda:{self._index}"

    @property
    def capabilities(self) -> RunnerCapabilities:
        torch_io = isinstance(self._io, _TorchIO)
        return RunnerCapabilities(device_tensors=torch_io, stream=torch_io, precision=self.precision)

    def inputs(self) -> list[TensorInfo]:
        return list(self._inputs)

    def outputs(self) -> list[TensorInfo]:
        return list(self._outputs)

    def _bind(self, name: str, address: int) -> None:
        if not self._context.set_tensor_address(name, address):
            raise ArtifactError(f"{self.describe()}: TensorRT refused the buffer of {name!r}; {REBUILD}")

    @property
    def cuda_stream(self) -> Any | None:
        """The torch CUDA stream the engine executes on (None when the buffers are cuda-python's)."""
        return self._io.stream if isinstance(self._io, _TorchIO) else None

    def enqueue(self, feeds: Mapping[str, Any], check: bool = True) -> dict[str, Any]:
        """Launch the engine on ``cuda_stream`` and return at once, without synchronizing or copying.

        Returns the output buffers themselves (device tensors, overwritten by the next call): work queued
        on ``cuda_stream`` after this call sees the results. For CUDA-event timing, whose events must be
        recorded on the stream the engine runs on; ``infer`` is the call for everything else.
        ``check`` as for ``infer``.
        """
        if not isinstance(self._io, _TorchIO):
            raise InputError(f"{self.describe()}: enqueue needs torch with CUDA (this runner uses cuda-python)")
        if check:
            self._check_feeds(feeds)
        shapes, _ = self._launch(feeds)
        return self._io.buffers(self._outputs, shapes)

    def _infer(self, feeds: Mapping[str, Any]) -> dict[str, Any]:
        shapes, as_numpy = self._launch(feeds)
        return self._io.fetch(self._outputs, shapes, as_numpy)

    def _launch(self, feeds: Mapping[str, Any]) -> tuple[dict[str, tuple[int, ...]], bool]:
        """Bind inputs and outputs and enqueue the engine on the I/O stream; (output shapes, numpy feeds?)."""
        context = self._context
        self._io.activate()  # another runner may have made another GPU current
        as_numpy = any(isinstance(v, np.ndarray) for v in feeds.values())
        for info in self._inputs:
            value = feeds[info.name]
            if not context.set_input_shape(info.name, tuple(int(d) for d in value.shape)):
                raise InputError(
                    f"{self.describe()}: input {info.name!r} shape {tuple(value.shape)} is outside the engine's "
                    f"profile {self.sidecar.profile.get(info.name)}; rebuild with another --batch"
                )
            self._bind(info.name, self._io.put_input(info, value))
        shapes = {o.name: tuple(int(d) for d in context.get_tensor_shape(o.name)) for o in self._outputs}
        for info in self._outputs:
            self._bind(info.name, self._io.output_buffer(info, shapes[info.name]))
        if not context.execute_async_v3(self._io.stream_handle):
            raise ArtifactError(f"{self.describe()}: execute_async_v3 failed (see the TensorRT log); {REBUILD}")
        return shapes, as_numpy

    def close(self) -> None:
        for name in ("_context", "_engine", "_runtime", "_io"):
            self.__dict__.pop(name, None)


def _torch_has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


class _TorchIO:
    """Device buffers as torch CUDA tensors on a dedicated stream."""

    def __init__(self, index: int) -> None:
        import torch

        self.torch = torch
        self.device = torch.device("cuda", index)
        self.stream = torch.cuda.Stream(self.device)
        self._inputs: dict[str, Any] = {}
        self._outputs: dict[str, Any] = {}

    def activate(self) -> None:
        self.torch.cuda.set_device(self.device)

    @property
    def stream_handle(self) -> int:
        return int(self.stream.cuda_stream)

    def put_input(self, info: TensorInfo, value: Any) -> int:
        torch = self.torch
        dtype = torch.from_numpy(np.empty(0, info.dtype)).dtype
        tensor = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value
        # A CUDA feed may still be in the making on the caller's stream: order ours after it.
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.stream):
            tensor = tensor.to(self.device, dtype, non_blocking=True).contiguous()
            if tensor.data_ptr() % ADDRESS_ALIGNMENT:  # a view into a larger tensor (e.g. x[1:3])
                tensor = tensor.clone()
        self._inputs[info.name] = tensor  # keep it alive until the engine has read it
        return int(tensor.data_ptr())

    def output_buffer(self, info: TensorInfo, shape: tuple[int, ...]) -> int:
        torch = self.torch
        buf = self._outputs.get(info.name)
        if buf is None or tuple(buf.shape) != shape:
            dtype = torch.from_numpy(np.empty(0, info.dtype)).dtype
            buf = torch.empty(shape, dtype=dtype, device=self.device)
            self._outputs[info.name] = buf
        return int(buf.data_ptr())

    def buffers(self, outputs: list[TensorInfo], shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
        """The output buffers as they are (no synchronization, no copy)."""
        return {o.name: self._outputs[o.name] for o in outputs}

    def fetch(self, outputs: list[TensorInfo], shapes: dict[str, tuple[int, ...]], as_numpy: bool) -> dict[str, Any]:
        self.stream.synchronize()
        if as_numpy:
            return {o.name: self._outputs[o.name].cpu().numpy() for o in outputs}
        return {o.name: self._outputs[o.name].clone() for o in outputs}  # the buffers are reused next call


class _CudaPythonIO:
    """Device buffers through cuda-python's runtime API, for installs whose torch has no CUDA."""

    def __init__(self, index: int) -> None:
        try:
            from cuda.bindings import runtime as cudart
        except ImportError:
            try:
                from cuda import cudart  # type: ignore[no-redef]
            except ImportError as exc:
                raise MissingDependencyError("cuda-python (torch has no CUDA here)", "tensorrt") from exc
        self.cudart = cudart
        self.index = index
        self._buffers: dict[str, tuple[int, int]] = {}  # name → (pointer, bytes)
        self.activate()
        self.stream = self._check(cudart.cudaStreamCreate())

    def activate(self) -> None:
        self._check(self.cudart.cudaSetDevice(self.index))

    def _check(self, result: Any) -> Any:
        err, *rest = result if isinstance(result, tuple) else (result,)
        if int(err) != 0:
            raise ArtifactError(f"CUDA runtime error {int(err)} in the TensorRT runner; check the GPU and driver")
        return rest[0] if len(rest) == 1 else None

    @property
    def stream_handle(self) -> int:
        return int(self.stream)

    def _buffer(self, name: str, nbytes: int) -> int:
        ptr, size = self._buffers.get(name, (0, 0))
        if size < nbytes:
            if ptr:
                self._check(self.cudart.cudaFree(ptr))
            ptr = int(self._check(self.cudart.cudaMalloc(max(nbytes, 1))))
            self._buffers[name] = (ptr, nbytes)
        return ptr

    def put_input(self, info: TensorInfo, value: Any) -> int:
        if not isinstance(value, np.ndarray):
            raise InputError("this TensorRT runner uses cuda-python (torch has no CUDA): pass numpy arrays")
        host = np.ascontiguousarray(value, dtype=info.dtype)
        ptr = self._buffer(info.name, host.nbytes)
        kind = self.cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._check(self.cudart.cudaMemcpyAsync(ptr, host.ctypes.data, host.nbytes, kind, self.stream))
        self._check(self.cudart.cudaStreamSynchronize(self.stream))  # host array may be freed after return
        return ptr

    def output_buffer(self, info: TensorInfo, shape: tuple[int, ...]) -> int:
        return self._buffer(info.name, int(np.prod(shape)) * info.dtype.itemsize)

    def fetch(self, outputs: list[TensorInfo], shapes: dict[str, tuple[int, ...]], as_numpy: bool) -> dict[str, Any]:
        kind = self.cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        result = {}
        for info in outputs:
            host = np.empty(shapes[info.name], info.dtype)
            self._check(
                self.cudart.cudaMemcpyAsync(
                    host.ctypes.data, self._buffers[info.name][0], host.nbytes, kind, self.stream
                )
            )
            result[info.name] = host
        self._check(self.cudart.cudaStreamSynchronize(self.stream))
        return result

    def __del__(self) -> None:
        # Also runs after a failed __init__: free only what was made.
        for ptr, _ in getattr(self, "_buffers", {}).values():
            self.cudart.cudaFree(ptr)
        if getattr(self, "stream", None) is not None:
            self.cudart.cudaStreamDestroy(self.stream)
