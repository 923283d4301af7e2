"""minitf: a from-scratch transformer framework in NumPy, for reading next to the HF course."""
from setuptools import setup

setup(
    name="minitf",
    version="0.1.0",
    description="A readable from-scratch transformer framework in NumPy with Numba/CUDA kernels",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # `kernels/` lives at the top of the repo but installs as `minitf.kernels`, so no
    # top-level `kernels` module leaks into site-packages.
    packages=["minitf", "minitf.attention", "minitf.models", "minitf.tokenizers",
              "minitf.generation", "minitf.pipelines", "minitf.debug", "minitf.kernels"],
    package_dir={"minitf": "minitf", "minitf.kernels": "kernels"},
    package_data={"minitf.kernels": ["*.cu"]},
    install_requires=["numpy>=1.24", "numba>=0.59", "safetensors>=0.4", "pillow>=9",
                      "matplotlib>=3.6"],
    extras_require={
        # CuPy's CUDA 12 build: it runs on every driver from 525 on, CUDA 13 drivers included
        # (cupy-cuda13x needs driver >= 580). [ctk] brings NVRTC, which compiles kernels/*.cu at
        # run time, and the CUDA libraries from PyPI, so no CUDA toolkit install is needed (an
        # nvcc-only toolkit such as this machine's CUDA 13 has no NVRTC library).
        "gpu": ["cupy-cuda12x[ctk]>=14"],
        "hub": ["huggingface_hub>=0.20"],
        # Reference outputs only: parity tests and benchmarks compare against these.
        "reference": ["torch==2.13.0", "transformers>=4.46,<5", "sentencepiece"],
        # tokenizers is the reference for the tokenizer tests: pinned to the series transformers
        # 4.x uses, so `make test` and `make parity` compare against the same behaviour.
        "dev": ["pytest>=7", "hypothesis>=6", "nbmake>=1.5", "nbclient>=0.10", "ipykernel>=6",
                "nbformat>=5", "tokenizers>=0.22,<0.23", "psutil>=5"],
    },
    entry_points={"console_scripts": ["minitf=minitf.cli:main"]},
)
