"""Key transitions (关键学段, POLICY 003 二(二)): the 小升初 list, 中考 registration gaps and their explanations."""
