"""Python side of the math ops area. Names listed in EXPORTS appear in the namespaces given
(\"top\" is tapegrad itself; also \"math\", \"nn\", \"linalg\")."""

EXPORTS = {"top": [], "math": [], "nn": [], "linalg": []}
