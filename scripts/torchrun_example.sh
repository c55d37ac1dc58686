#!/bin/bash
# Multi-node DDP without SLURM: start this script once on every node, with the same arguments.
#   NNODES=2 GPUS=4 MASTER=node0.example.org:29500 bash scripts/torchrun_example.sh configs/cifar10/resnet18.yaml
# torchrun starts GPUS processes per node and sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR...;
# Lightning detects them (TorchElasticEnvironment) and does not launch processes itself.
# --trainer.num_nodes / --trainer.devices must equal --nnodes / --nproc_per_node, and every node
# must join the rendezvous: a node that never starts leaves the others waiting (they give up after
# torchrun's rendezvous timeout, 900 s by default). data.init_args.batch_size is per GPU.
set -euo pipefail
CONFIG="${1:?usage: NNODES=N GPUS=G MASTER=host:port bash scripts/torchrun_example.sh CONFIG.yaml [args]}"
shift
NNODES="${NNODES:-1}"
GPUS="${GPUS:-1}"
MASTER="${MASTER:-localhost:29500}"

torchrun --nnodes "$NNODES" --nproc_per_node "$GPUS" \
    --rdzv-backend c10d --rdzv-endpoint "$MASTER" --rdzv-id litzoo \
    scripts/train.py fit --config "$CONFIG" --config configs/trainer/ddp.yaml \
    --trainer.num_nodes "$NNODES" --trainer.devices "$GPUS" "$@"
