"""The textbook sprinkler network, declared node by node, queried, and drawn.

    python examples/sprinkler.py [OUTPUT_DIR]

Writes sprinkler.svg (the DAG with the observed node shaded and an active
trail highlighted) when Graphviz's `dot` is installed.
"""

import shutil
import atexit
import sys
import tempfile
from pathlib import Path

from pgm import BayesianNetwork, Bernoulli, Categorical
from pgm.render import render

net = BayesianNetwork(name="sprinkler")
net.add("cloudy", Bernoulli(0.5, states=["no", "yes"]))
net.add("sprinkler", Categorical(["off", "on"], parents=["cloudy"],
                                 table={"no": [0.5, 0.5], "yes": [0.9, 0.1]}))
net.add("rain", Categorical(["no", "yes"], parents=["cloudy"],
                            table={"no": [0.8, 0.2], "yes": [0.2, 0.8]}))
net.add("wet_grass", Categorical(["dry", "wet"], parents=["sprinkler", "rain"],
                                 table={("off", "no"): [1.0, 0.0], ("off", "yes"): [0.1, 0.9],
                                        ("on", "no"): [0.1, 0.9], ("on", "yes"): [0.01, 0.99]}))

print(net.factorization().describe())
print()
print("sprinkler and rain independent?            ", net.is_d_separated("sprinkler", "rain"))
print("... given cloudy?                           ", net.is_d_separated("sprinkler", "rain", given="cloudy"))
trail = net.active_trail("sprinkler", "rain", given=["cloudy", "wet_grass"])
print("... given cloudy and wet_grass? no, trail:  ", " - ".join(trail), "(explaining away)")
print("everything d-connected to cloudy given rain:", sorted(net.d_connected("cloudy", given="rain")))
print("local independencies:")
for statement in net.local_independencies():
    print("   ", statement)

if shutil.which("dot"):
    if len(sys.argv) > 1:  # the folder the user asked for: the files stay there
        output = Path(sys.argv[1])
    else:  # none asked for: a temporary folder, removed when the script ends
        output = Path(tempfile.mkdtemp(prefix="pgm-sprinkler-"))
        atexit.register(shutil.rmtree, output, ignore_errors=True)
    output.mkdir(parents=True, exist_ok=True)
    render(net, output / "sprinkler.svg", observed=["cloudy", "wet_grass"], trail=trail)
    print("\ndrew", output / "sprinkler.svg")
