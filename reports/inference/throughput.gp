# Drawn by scripts/plot-inference.py; render with: gnuplot throughput.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'throughput.svg'
set title 'Server throughput against the images in a run (batch mode)' noenhanced
set xlabel 'images in the run' noenhanced
set ylabel 'images per second (server evaluation)' noenhanced
set grid lc rgb '#dddddd'
set key outside right top noenhanced
set logscale x 2
set format x '%.0f'
plot 'throughput.dat' index 0 using 1:2 with linespoints lw 2 pt 1 lc rgb '#1f77b4' dt 1 title 'BFV', \
     'throughput.dat' index 1 using 1:2 with linespoints lw 2 pt 2 lc rgb '#d62728' dt 1 title 'CKKS'
