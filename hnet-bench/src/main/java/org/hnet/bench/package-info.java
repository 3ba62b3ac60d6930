/** JMH benchmarks of the kernels and the model. Run: java -jar hnet-bench/target/benchmarks.jar */
package org.hnet.bench;
